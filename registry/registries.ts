// The clients of one kiln operation, one per registry host, so connections, tokens and the
// HTTPS-or-HTTP decision are shared by every request to that host and closed together.
import { RegistryClient, type ClientOptions } from './client.js';

export class Registries {
  private readonly clients = new Map<string, RegistryClient>();

  constructor(private readonly opts: ClientOptions = {}) {}

  client(host: string): RegistryClient {
    let c = this.clients.get(host);
    if (!c) this.clients.set(host, (c = new RegistryClient(host, this.opts)));
    return c;
  }

  async close(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((c) => c.close()));
  }
}
