// What a container may do by default, as Docker decides it: the capability set, the /proc and /sys
// paths hidden or made read-only, the devices it may open, the seccomp filter. Shared by the helper's spec and the OCI bundle.

export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

export const MASKED_PATHS: readonly string[] = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

/**
 * The device cgroup's rules, runc's defaults (what BuildKit's RUN and `docker run` list in
 * devices.list): any node may be created (CAP_MKNOD is in the default set, and images carry
 * device nodes), but only the harmless ones may be opened. Without them a container's root could
 * mknod the host's disk and read or write it.
 */
export const DEVICE_RULES: readonly string[] = [
  'c *:* m',
  'b *:* m',
  'c 1:3 rwm', // null
  'c 1:5 rwm', // zero
  'c 1:7 rwm', // full
  'c 1:8 rwm', // random
  'c 1:9 rwm', // urandom
  'c 5:0 rwm', // tty
  'c 5:2 rwm', // ptmx
  'c 10:200 rwm', // net/tun
  'c 136:* rwm', // pts
];

export const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/**
 * The syscalls Docker's default seccomp profile keeps from a container with Docker's default
 * capabilities (docs.docker.com "Seccomp security profiles": kernel modules, keyrings, mounts and
 * namespaces, clock and swap changes, NUMA policy, kexec, reboot, obsolete calls), written as what
 * is refused rather than what is allowed. clone3 gets ENOSYS so libc falls back to clone, whose
 * namespace flags the filter can see; the profile refuses those too.
 */
export interface SeccompPolicy {
  errno: readonly string[];
  enosys: readonly string[];
  /** clone refused (EPERM) when any of these flags is set. */
  cloneDeniedFlags: number;
}

export const DEFAULT_SECCOMP: SeccompPolicy = {
  errno: [
    '_sysctl', 'acct', 'add_key', 'bpf', 'clock_adjtime', 'clock_adjtime64', 'clock_settime', 'clock_settime64', 'create_module',
    'delete_module', 'finit_module', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'get_kernel_syms', 'get_mempolicy', 'init_module',
    'ioperm', 'iopl', 'kexec_file_load', 'kexec_load', 'keyctl', 'lookup_dcookie', 'mbind', 'mount', 'move_mount', 'move_pages',
    'name_to_handle_at', 'nfsservctl', 'open_by_handle_at', 'open_tree', 'perf_event_open', 'pivot_root', 'query_module', 'quotactl',
    'reboot', 'request_key', 'set_mempolicy', 'setns', 'settimeofday', 'stime', 'swapoff', 'swapon', 'sysfs', 'umount', 'umount2',
    'unshare', 'uselib', 'userfaultfd', 'ustat', 'vm86', 'vm86old',
  ],
  enosys: ['clone3'],
  // CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
  cloneDeniedFlags: 0x7e020000,
};

function flagBits(flags: number): number[] {
  const bits: number[] = [];
  for (let bit = 1; bit !== 0 && bit <= flags; bit = (bit << 1) >>> 0) if ((flags & bit) !== 0) bits.push(bit);
  return bits;
}

/** The policy as runc reads it (config.json's linux.seccomp): allow by default, the refused calls listed. */
export function ociSeccomp(policy: SeccompPolicy): object {
  const errno = (names: readonly string[], errnoRet: number) => ({ names, action: 'SCMP_ACT_ERRNO', errnoRet });
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [
      errno(policy.errno, 1),
      errno(policy.enosys, 38),
      // One rule per flag: a rule's conditions all have to hold, and any one flag refuses the call.
      ...flagBits(policy.cloneDeniedFlags).map((bit) => ({ ...errno(['clone'], 1), args: [{ index: 0, value: bit, valueTwo: bit, op: 'SCMP_CMP_MASKED_EQ' }] })),
    ],
  };
}

/** Docker's PATH for images that set none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
