import { assertEquals } from "../testing/assert.ts";
import { sysctlError, sysctlsError } from "./sysctl.ts";

const own = { net: true, ipc: true, uts: true };
const shared = { net: false, ipc: false, uts: false };

Deno.test("sysctlError: runc's rule and words", () => {
  for (const k of ["kernel.msgmax", "kernel.sem", "kernel.shm_rmid_forced", "fs.mqueue.msg_max"]) {
    assertEquals(sysctlError(k, own), undefined);
    assertEquals(sysctlError(k, shared), `sysctl "${k}" is not allowed in the hosts ipc namespace`);
  }
  assertEquals(sysctlError("net.ipv4.ip_forward", own), undefined);
  assertEquals(
    sysctlError("net.ipv4.ip_forward", shared),
    `sysctl "net.ipv4.ip_forward" not allowed in host network namespace`,
  );
  assertEquals(sysctlError("kernel.domainname", own), undefined);
  assertEquals(
    sysctlError("kernel.domainname", shared),
    `sysctl "kernel.domainname" is not in a separate kernel namespace`,
  );
  assertEquals(
    sysctlError("kernel.hostname", own),
    `sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field`,
  );
  for (const k of ["kernel.printk", "vm.overcommit_memory", "kernel.shmmaxx", "fs.file-max"]) {
    assertEquals(sysctlError(k, own), `sysctl "${k}" is not in a separate kernel namespace`);
  }
  for (const k of ["net/../kernel/printk", "net..x", "net.", "", "net.ipv4.conf.a b"]) {
    assertEquals(sysctlError(k, own), `invalid sysctl ${JSON.stringify(k)}`);
  }
});

Deno.test("sysctlsError: shapes", () => {
  assertEquals(sysctlsError(undefined, own), undefined);
  assertEquals(sysctlsError({ "net.core.somaxconn": "1" }, own), undefined);
  assertEquals(sysctlsError("x", own), "Sysctls must be a map of strings");
  assertEquals(
    sysctlsError({ "net.core.somaxconn": 1 }, own),
    `invalid value for sysctl "net.core.somaxconn": not a string`,
  );
});
