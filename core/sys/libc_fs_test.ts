import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import {
  ErrnoError,
  lgetxattr,
  lgetxattrs,
  llistxattr,
  lremovexattr,
  lsetxattr,
  makedev,
  mknod,
  S_IFCHR,
  S_IFIFO,
  splitDev,
} from "./libc_fs.ts";

const enc = new TextEncoder();

Deno.test("makedev/splitDev round trip", () => {
  for (const [ma, mi] of [[0, 0], [1, 3], [8, 1], [259, 65536], [4095, 1048575]]) {
    const d = Number(makedev(ma, mi));
    assertEquals(splitDev(d), { major: ma, minor: mi });
  }
});

Deno.test("mknod char device, fifo; errno on failure", () => {
  const dir = Deno.makeTempDirSync();
  try {
    mknod(`${dir}/null`, S_IFCHR | 0o666, 1, 3);
    const st = Deno.lstatSync(`${dir}/null`);
    assert(st.isCharDevice);
    assertEquals(splitDev(st.rdev!), { major: 1, minor: 3 });
    mknod(`${dir}/fifo`, S_IFIFO | 0o644);
    assert(Deno.lstatSync(`${dir}/fifo`).isFifo);
    const e = assertThrows(() => mknod(`${dir}/fifo`, S_IFIFO | 0o644), ErrnoError) as ErrnoError;
    assertEquals(e.code, "EEXIST");
    assert(e.message.includes("file exists"), e.message);
    assert(e.message.includes(`${dir}/fifo`), e.message);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("l*xattr: set/get/list/remove, binary values, no symlink following", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const f = `${dir}/f`;
    Deno.writeTextFileSync(f, "x");
    const bin = new Uint8Array([0, 1, 2, 0xff, 0xfe, 0]);
    lsetxattr(f, "user.bin", bin);
    lsetxattr(f, "trusted.t", enc.encode("y"));
    lsetxattr(f, "user.empty", new Uint8Array());
    assertEquals(lgetxattr(f, "user.bin"), bin);
    assertEquals(lgetxattr(f, "user.empty"), new Uint8Array());
    assertEquals(lgetxattr(f, "user.none"), null);
    assertEquals(llistxattr(f).sort(), ["trusted.t", "user.bin", "user.empty"]);
    assertEquals(lgetxattrs(f).get("trusted.t"), enc.encode("y"));
    lremovexattr(f, "user.bin");
    lremovexattr(f, "user.bin");
    assertEquals(lgetxattr(f, "user.bin"), null);
    Deno.symlinkSync(f, `${dir}/l`);
    assertEquals(llistxattr(`${dir}/l`), []);
    lsetxattr(`${dir}/l`, "trusted.onlink", enc.encode("1"));
    assertEquals(lgetxattr(f, "trusted.onlink"), null);
    assertEquals(lgetxattr(`${dir}/l`, "trusted.onlink"), enc.encode("1"));
    const e = assertThrows(() => lgetxattr(`${dir}/missing`, "user.x"), ErrnoError) as ErrnoError;
    assertEquals(e.code, "ENOENT");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
