/**
 * Docker's default seccomp profile (moby profiles/seccomp default.json, 2026),
 * written out in berth's own encoding: the unconditional allow list grouped by
 * topic, then the argument rules and the groups that depend on the
 * container's capabilities or the architecture. `defaultProfile()` expands it
 * into the Docker profile format that `--security-opt seccomp=<file>` also
 * takes, so the default and custom profiles go through the same resolution
 * (seccomp_profile.ts).
 *
 * Everything not listed fails with EPERM; system calls newer than any the
 * profile names fail with ENOSYS (seccomp_bpf.ts), so programs fall back.
 *
 * @example
 * ```ts
 * const p = defaultProfile();
 * p.defaultAction; // "SCMP_ACT_ERRNO"
 * ```
 * @module
 */

import type { DockerSeccompProfile, DockerSyscallRule } from "./seccomp_profile.ts";

/** Allowed for every container, whatever its capabilities. */
const ALLOWED: Record<string, string> = {
  files: `access faccessat faccessat2 chdir fchdir getcwd chmod fchmod fchmodat fchmodat2 chown
    chown32 fchown fchown32 fchownat lchown lchown32 creat open openat openat2 close close_range dup
    dup2 dup3 fcntl fcntl64 flock link linkat symlink symlinkat unlink unlinkat rename renameat
    renameat2 mkdir mkdirat mknod mknodat rmdir readlink readlinkat stat stat64 lstat lstat64 fstat
    fstat64 fstatat64 newfstatat statx statfs statfs64 fstatfs fstatfs64 truncate truncate64
    ftruncate ftruncate64 getdents getdents64 umask utime utimes utimensat utimensat_time64
    futimesat name_to_handle_at fallocate fadvise64 fadvise64_64 readahead sync syncfs fsync
    fdatasync sync_file_range statmount listmount cachestat`,
  xattrs: `getxattr lgetxattr fgetxattr getxattrat setxattr lsetxattr fsetxattr setxattrat listxattr
    llistxattr flistxattr listxattrat removexattr lremovexattr fremovexattr removexattrat`,
  io: `read write readv writev pread64 pwrite64 preadv pwritev preadv2 pwritev2 lseek _llseek
    sendfile sendfile64 splice tee vmsplice copy_file_range ioctl pipe pipe2 io_setup io_destroy
    io_submit io_cancel io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set`,
  events: `select _newselect pselect6 pselect6_time64 poll ppoll ppoll_time64 epoll_create
    epoll_create1 epoll_ctl epoll_ctl_old epoll_wait epoll_wait_old epoll_pwait epoll_pwait2
    eventfd eventfd2 signalfd signalfd4 timerfd_create timerfd_settime timerfd_settime64
    timerfd_gettime timerfd_gettime64 inotify_init inotify_init1 inotify_add_watch inotify_rm_watch
    fanotify_mark`,
  memory: `brk mmap mmap2 munmap mremap mprotect madvise mincore msync mlock mlock2 mlockall munlock
    munlockall remap_file_pages memfd_create memfd_secret membarrier pkey_alloc pkey_free
    pkey_mprotect map_shadow_stack mseal`,
  processes: `fork vfork execve execveat exit exit_group wait4 waitid waitpid kill tkill tgkill
    getpid getppid gettid getpgid setpgid getpgrp getsid setsid prctl prlimit64 getrlimit setrlimit
    ugetrlimit getrusage getpriority setpriority pidfd_open pidfd_send_signal process_mrelease
    set_tid_address set_robust_list get_robust_list rseq restart_syscall get_thread_area
    set_thread_area capget capset seccomp landlock_create_ruleset landlock_add_rule
    landlock_restrict_self uretprobe riscv_hwprobe uname sysinfo getrandom`,
  ids: `getuid getuid32 geteuid geteuid32 getgid getgid32 getegid getegid32 getresuid getresuid32
    getresgid getresgid32 getgroups getgroups32 setuid setuid32 setgid setgid32 setreuid setreuid32
    setregid setregid32 setresuid setresuid32 setresgid setresgid32 setfsuid setfsuid32 setfsgid
    setfsgid32 setgroups setgroups32`,
  scheduling: `sched_yield sched_getaffinity sched_setaffinity sched_getattr sched_setattr
    sched_getparam sched_setparam sched_getscheduler sched_setscheduler sched_get_priority_max
    sched_get_priority_min sched_rr_get_interval sched_rr_get_interval_time64 getcpu`,
  signals: `rt_sigaction rt_sigprocmask rt_sigpending rt_sigqueueinfo rt_tgsigqueueinfo
    rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 sigaltstack sigprocmask
    sigreturn pause`,
  time: `time gettimeofday clock_gettime clock_gettime64 clock_getres clock_getres_time64
    clock_nanosleep clock_nanosleep_time64 nanosleep adjtimex clock_adjtime clock_adjtime64 alarm
    getitimer setitimer times timer_create timer_delete timer_getoverrun timer_gettime
    timer_gettime64 timer_settime timer_settime64 futex futex_time64 futex_waitv futex_wait
    futex_wake futex_requeue`,
  network: `socketpair socketcall bind connect listen accept accept4 getsockname getpeername
    getsockopt setsockopt send sendto sendmsg sendmmsg recv recvfrom recvmsg recvmmsg
    recvmmsg_time64 shutdown`,
  ipc: `ipc semget semop semtimedop semtimedop_time64 semctl msgget msgsnd msgrcv msgctl shmget
    shmat shmdt shmctl mq_open mq_unlink mq_timedsend mq_timedsend_time64 mq_timedreceive
    mq_timedreceive_time64 mq_notify mq_getsetattr`,
};

/** Allowed when the container's bounding set has the capability. */
const BY_CAPABILITY: [cap: string, names: string][] = [
  ["CAP_DAC_READ_SEARCH", "open_by_handle_at"],
  [
    "CAP_SYS_ADMIN",
    `bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie lsm_get_self_attr
    lsm_list_modules lsm_set_self_attr mount mount_setattr move_mount open_tree perf_event_open
    quotactl quotactl_fd setdomainname sethostname setns syslog umount umount2 unshare`,
  ],
  ["CAP_SYS_BOOT", "reboot"],
  ["CAP_SYS_CHROOT", "chroot"],
  ["CAP_SYS_MODULE", "delete_module init_module finit_module"],
  ["CAP_SYS_PACCT", "acct"],
  ["CAP_SYS_PTRACE", "kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace"],
  ["CAP_SYS_RAWIO", "iopl ioperm"],
  ["CAP_SYS_TIME", "settimeofday stime clock_settime clock_settime64"],
  ["CAP_SYS_TTY_CONFIG", "vhangup"],
  ["CAP_SYS_NICE", "get_mempolicy mbind set_mempolicy set_mempolicy_home_node"],
  ["CAP_SYSLOG", "syslog"],
  ["CAP_BPF", "bpf"],
  ["CAP_PERFMON", "perf_event_open"],
];

/** Allowed on these architectures only (Go/libseccomp arch names). */
const BY_ARCH: [arches: string, names: string][] = [
  ["ppc64le", "sync_file_range2 swapcontext"],
  [
    "arm arm64",
    "arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls",
  ],
  ["amd64 x32", "arch_prctl"],
  ["amd64 x32 x86", "modify_ldt"],
  ["s390 s390x", "s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr"],
  ["riscv64", "riscv_flush_icache"],
];

/** The namespace flags of clone(2) (CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET). */
export const CLONE_NS_FLAGS = 0x7e020000;

/** personality(2) values allowed: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, query. */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

/** socket(2) families are allowed except AF_ALG (38) and AF_VSOCK (40). */
const AF_ALG = 38, AF_VSOCK = 40;

/** The architectures each native one runs, as Docker's archMap lists them. */
const ARCH_MAP: [string, string[] | null][] = [
  ["SCMP_ARCH_X86_64", ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]],
  ["SCMP_ARCH_AARCH64", ["SCMP_ARCH_ARM"]],
  ["SCMP_ARCH_MIPS64", ["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"]],
  ["SCMP_ARCH_MIPS64N32", ["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"]],
  ["SCMP_ARCH_MIPSEL64", ["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"]],
  ["SCMP_ARCH_MIPSEL64N32", ["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"]],
  ["SCMP_ARCH_S390X", ["SCMP_ARCH_S390"]],
  ["SCMP_ARCH_RISCV64", null],
  ["SCMP_ARCH_LOONGARCH64", null],
];

const words = (s: string) => s.split(/\s+/).filter((w) => w);
const allow = (names: string, more: Partial<DockerSyscallRule> = {}): DockerSyscallRule => ({
  names: words(names),
  action: "SCMP_ACT_ALLOW",
  ...more,
});
const arg0 = (op: string, value: number) => [{ index: 0, value, op }];

/** Docker's default profile, in Docker's profile format (a fresh object each call). */
export function defaultProfile(): DockerSeccompProfile {
  return {
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: 1,
    archMap: ARCH_MAP.map(([architecture, sub]) => ({
      architecture,
      subArchitectures: sub ? [...sub] : null,
    })),
    syscalls: [
      allow(Object.values(ALLOWED).join(" ")),
      allow("process_vm_readv process_vm_writev ptrace", { includes: { minKernel: "4.8" } }),
      allow("socket", { args: arg0("SCMP_CMP_LT", AF_ALG) }),
      allow("socket", { args: arg0("SCMP_CMP_EQ", AF_ALG + 1) }),
      allow("socket", { args: arg0("SCMP_CMP_GT", AF_VSOCK) }),
      ...PERSONALITIES.map((p) => allow("personality", { args: arg0("SCMP_CMP_EQ", p) })),
      ...BY_ARCH.map(([a, names]) => allow(names, { includes: { arches: words(a) } })),
      ...BY_CAPABILITY.slice(0, 2).map(([cap, names]) =>
        allow(names, { includes: { caps: [cap] } })
      ),
      // without CAP_SYS_ADMIN: clone only without namespace flags (s390 has them in arg 1),
      // and clone3 (whose flags BPF cannot see) fails with ENOSYS so libcs fall back to clone
      allow("clone", {
        args: arg0("SCMP_CMP_MASKED_EQ", CLONE_NS_FLAGS),
        excludes: { caps: ["CAP_SYS_ADMIN"], arches: ["s390", "s390x"] },
      }),
      allow("clone", {
        args: [{ index: 1, value: CLONE_NS_FLAGS, op: "SCMP_CMP_MASKED_EQ" }],
        includes: { arches: ["s390", "s390x"] },
        excludes: { caps: ["CAP_SYS_ADMIN"] },
      }),
      {
        names: ["clone3"],
        action: "SCMP_ACT_ERRNO",
        errnoRet: 38,
        excludes: { caps: ["CAP_SYS_ADMIN"] },
      },
      ...BY_CAPABILITY.slice(2).map(([cap, names]) => allow(names, { includes: { caps: [cap] } })),
    ],
  };
}
