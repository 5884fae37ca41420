// Prints the op digests of the LLB BuildKit's dockerfile2llb makes for a Dockerfile on stdin, as
// test/frontend/buildkit-parity/*/buildkit.json holds them: linux/amd64, every base image resolved
// to a config with one layer and no settings, no build arguments (run by write-case.sh).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

type resolver struct{}

func (resolver) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	cfg := map[string]any{"architecture": "amd64", "os": "linux", "rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + fmt.Sprintf("%064d", 0)}}}
	dt, _ := json.Marshal(cfg)
	return ref, "", dt, nil
}

func main() {
	df, _ := io.ReadAll(os.Stdin)
	caps := pb.Caps.CapSet(pb.Caps.All())
	res, err := dockerfile2llb.Dockerfile2LLB(context.TODO(), df, dockerfile2llb.ConvertOpt{
		MetaResolver:   resolver{},
		LLBCaps:        &caps,
		TargetPlatform: &ocispecs.Platform{OS: "linux", Architecture: "amd64"},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	def, err := res.State.Marshal(context.TODO(), llb.LinuxAmd64)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ops := []string{}
	for _, dt := range def.Def {
		ops = append(ops, digest.FromBytes(dt).String())
	}
	out, _ := json.MarshalIndent(map[string]any{"ops": ops}, "", "  ")
	fmt.Println(string(out))
}
