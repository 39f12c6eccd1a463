import { assertEquals, assertThrows } from "../../../core/testing/assert.ts";
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import { decodeBody, int64, map, ptr, slice, str, struct } from "../../../core/api/schema.ts";
import { ContainerCreate, ContainerUpdate } from "../../../core/api/containers.ts";
import { ExecConfig, ExecStartCheck } from "../../../core/api/exec.ts";
import { NetworkConnect, NetworkCreate, NetworkDisconnect } from "../../../core/api/networks.ts";
import { VolumeCreate } from "../../../core/api/volumes.ts";
import { AuthConfig } from "../../../core/api/auth.ts";
import { BuildArgs, BuildLabels, jsonParam, parseFilters } from "./query.ts";
import { decodeBytes } from "./body.ts";

/** [schema, body, dockerd 20.10's message for it after "json: cannot unmarshal "], read from a real dockerd. */
const TYPE_ERRORS: [Parameters<typeof decodeBody>[0], string, string][] = [
  [
    ContainerCreate,
    '{"Image":"busybox","Cmd":5}',
    "number into Go struct field ContainerConfigWrapper.Cmd of type string",
  ],
  [
    ContainerCreate,
    '{"Image":5}',
    "number into Go struct field ContainerConfigWrapper.Image of type string",
  ],
  [
    ContainerCreate,
    '{"Labels":{"a":5}}',
    "number into Go struct field ContainerConfigWrapper.Labels of type string",
  ],
  [
    ContainerCreate,
    '{"HostConfig":{"PortBindings":"x"}}',
    "string into Go struct field HostConfig.HostConfig.PortBindings of type nat.PortMap",
  ],
  [
    ContainerCreate,
    '{"HostConfig":{"Memory":"64m"}}',
    "string into Go struct field HostConfig.HostConfig.Memory of type int64",
  ],
  [
    ContainerCreate,
    '{"Env":"A=1"}',
    "string into Go struct field ContainerConfigWrapper.Env of type []string",
  ],
  [
    ContainerCreate,
    '{"HostConfig":"x"}',
    "string into Go struct field ContainerConfigWrapper.HostConfig of type container.HostConfig",
  ],
  [
    ContainerCreate,
    '{"HostConfig":{"Mounts":[{"Type":5}]}}',
    "number into Go struct field Mount.HostConfig.Mounts.Type of type mount.Type",
  ],
  [
    ContainerCreate,
    '{"HostConfig":{"Ulimits":[{"Name":"nofile","Soft":"x"}]}}',
    "string into Go struct field Ulimit.HostConfig.Ulimits.Soft of type int64",
  ],
  [
    ContainerCreate,
    '{"NetworkingConfig":{"EndpointsConfig":{"bridge":{"Aliases":5}}}}',
    "number into Go struct field EndpointSettings.NetworkingConfig.EndpointsConfig.Aliases of type []string",
  ],
  [
    ContainerCreate,
    '{"Volumes":{"/a":5}}',
    "number into Go struct field ContainerConfigWrapper.Volumes of type struct {}",
  ],
  [
    ContainerCreate,
    '{"HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":80}]}}}',
    "number into Go struct field PortBinding.HostConfig.PortBindings.HostPort of type string",
  ],
  [
    ContainerCreate,
    '{"Healthcheck":{"Interval":"1s"}}',
    "string into Go struct field HealthConfig.Healthcheck.Interval of type time.Duration",
  ],
  [
    ContainerCreate,
    '{"StopTimeout":"1"}',
    "string into Go struct field ContainerConfigWrapper.StopTimeout of type int",
  ],
  // the first error in the document wins…
  [
    ContainerCreate,
    '{"HostConfig":{"Memory":"64m","CpuShares":"x"}}',
    "string into Go struct field HostConfig.HostConfig.Memory of type int64",
  ],
  // …except one from StrSlice's own decoder, which stops decoding at once
  [
    ContainerCreate,
    '{"HostConfig":{"Memory":"64m"},"Cmd":5}',
    "number into Go struct field ContainerConfigWrapper.Cmd of type string",
  ],
  [VolumeCreate, '{"Name":5}', "number into Go struct field VolumeCreateBody.Name of type string"],
  [
    VolumeCreate,
    '{"Labels":{"a":5}}',
    "number into Go struct field VolumeCreateBody.Labels of type string",
  ],
  [
    NetworkCreate,
    '{"Name":5}',
    "number into Go struct field NetworkCreateRequest.Name of type string",
  ],
  [
    NetworkCreate,
    '{"Name":"n","IPAM":{"Config":"x"}}',
    "string into Go struct field IPAM.IPAM.Config of type []network.IPAMConfig",
  ],
  [
    NetworkConnect,
    '{"Container":5}',
    "number into Go struct field NetworkConnect.Container of type string",
  ],
  [
    NetworkDisconnect,
    '{"Force":"yes"}',
    "string into Go struct field NetworkDisconnect.Force of type bool",
  ],
  [ExecConfig, '{"Cmd":5}', "number into Go struct field ExecConfig.Cmd of type []string"],
  [ExecConfig, '{"Cmd":"ls"}', "string into Go struct field ExecConfig.Cmd of type []string"],
  [ExecConfig, '{"Tty":"x"}', "string into Go struct field ExecConfig.Tty of type bool"],
  [
    ExecStartCheck,
    '{"Detach":"x"}',
    "string into Go struct field ExecStartCheck.Detach of type bool",
  ],
  [AuthConfig, '{"username":5}', "number into Go struct field AuthConfig.username of type string"],
];

Deno.test("type errors read as dockerd's (Go's UnmarshalTypeError)", () => {
  for (const [schema, body, tail] of TYPE_ERRORS) {
    const e = assertThrows(() => decodeBody(schema, body), InvalidArgument);
    assertEquals(e.message, `json: cannot unmarshal ${tail}`, body);
  }
  // exact texts of a few, literal for literal
  const msg = (s: Parameters<typeof decodeBody>[0], b: string) =>
    assertThrows(() => decodeBody(s, b), InvalidArgument).message;
  assertEquals(
    msg(ContainerCreate, '{"HostConfig":{"Memory":1e300}}'),
    "json: cannot unmarshal number 1e300 into Go struct field HostConfig.HostConfig.Memory of type int64",
  );
  assertEquals(
    msg(ContainerCreate, '{"HostConfig":{"Memory":1.5}}'),
    "json: cannot unmarshal number 1.5 into Go struct field HostConfig.HostConfig.Memory of type int64",
  );
  assertEquals(
    msg(ContainerCreate, '{"HostConfig":{"ConsoleSize":[-1,2]}}'),
    "json: cannot unmarshal number -1 into Go struct field HostConfig.HostConfig.ConsoleSize of type uint",
  );
  assertEquals(
    msg(ContainerCreate, "[]"),
    "json: cannot unmarshal array into Go value of type runconfig.ContainerConfigWrapper",
  );
  assertEquals(
    msg(VolumeCreate, "5x"),
    "json: cannot unmarshal number into Go value of type volume.VolumeCreateBody",
  );
});

Deno.test("Go's decoding rules: names fold case, null is absent, unknown fields are ignored", () => {
  const b = decodeBody(
    ContainerCreate,
    `{"image":"busybox","CMD":"true","hostconfig":{"memory":10000000,"Binds":null,
      "LogConfig":{"Config":null}},"Labels":null,"Bogus":[1,{}],"entrypoint":null}`,
  );
  assertEquals(b, {
    Image: "busybox",
    Cmd: ["true"],
    HostConfig: { Memory: 10000000, LogConfig: {} },
  });
  assertEquals(decodeBody(ExecStartCheck, '{"detachKeys":"x","detach":true,"tty":false}'), {
    Detach: true,
    Tty: false,
  });
  assertEquals(decodeBody(ExecConfig, '{"detachKeys":"ctrl-x","Cmd":["sh"]}'), {
    DetachKeys: "ctrl-x",
    Cmd: ["sh"],
  });
  // a body of null leaves the struct alone (as Go does)
  assertEquals(decodeBytes(VolumeCreate, new TextEncoder().encode("null")), {});
  // a repeated key decodes into the same struct again
  assertEquals(
    decodeBody(ContainerCreate, '{"HostConfig":{"Memory":7000000},"HostConfig":{"CpuShares":2}}'),
    { HostConfig: { Memory: 7000000, CpuShares: 2 } },
  );
  // null elements are zero values; a map keeps __proto__ as a key
  const S = struct("S", { L: slice(str()), M: map(str()), P: map(ptr(str())) });
  const v = decodeBody(S, '{"L":["a",null],"M":{"__proto__":"x"},"P":{"a":null}}')!;
  assertEquals(v.L, ["a", ""]);
  assertEquals(Object.getPrototypeOf(v.M), Object.prototype);
  assertEquals(Object.keys(v.M!), ["__proto__"]);
  assertEquals(v.P, { a: null });
  // StrSlice: a string or a list
  assertEquals(decodeBody(ContainerCreate, '{"Entrypoint":""}'), { Entrypoint: [""] });
  // update body: resources at the top level
  assertEquals(decodeBody(ContainerUpdate, '{"memory":7000000,"RestartPolicy":{"name":"no"}}'), {
    Memory: 7000000,
    RestartPolicy: { Name: "no" },
  });
});

Deno.test("integers: Go's ranges, and berth's own ±2^53 limit", () => {
  const S = struct("S", { N: int64() });
  assertEquals(decodeBody(S, '{"N":-9007199254740991}'), { N: -9007199254740991 });
  const e = assertThrows(() => decodeBody(S, '{"N":9223372036854775807}'), InvalidArgument);
  assertEquals(e.message.includes("2^53"), true);
  assertThrows(
    () => decodeBody(S, '{"N":9223372036854775808}'),
    InvalidArgument,
    "json: cannot unmarshal number 9223372036854775808 into Go struct field S.N of type int64",
  );
  assertThrows(() => decodeBody(S, '{"N":1e3}'), InvalidArgument, "number 1e3");
});

Deno.test("query JSON: null is absent (Go clients send null for nil maps); Docker's prefixes", () => {
  const q = new URLSearchParams({ buildargs: "null", labels: "null" });
  assertEquals(jsonParam(q, "buildargs", BuildArgs, "error reading build args: "), undefined);
  assertEquals(jsonParam(q, "labels", BuildLabels), undefined);
  assertEquals(
    jsonParam(new URLSearchParams({ b: '{"A":null,"B":"1"}' }), "b", BuildArgs),
    { A: null, B: "1" },
  );
  assertThrows(
    () => jsonParam(new URLSearchParams({ b: "5" }), "b", BuildArgs, "error reading build args: "),
    InvalidArgument,
    "error reading build args: json: cannot unmarshal number into Go value of type map[string]*string",
  );
  assertThrows(
    () => jsonParam(new URLSearchParams({ b: '{"a":5}' }), "b", BuildArgs, "x: "),
    InvalidArgument,
    "x: json: cannot unmarshal number into Go value of type string",
  );
  assertEquals(parseFilters("null"), {});
  assertEquals(parseFilters('{"status":{"exited":true,"running":false}}'), {
    status: ["exited"],
  });
  assertEquals(parseFilters('{"label":["a=b"]}'), { label: ["a=b"] });
  assertThrows(() => parseFilters('{"a":5}'), InvalidArgument, "invalid filter");
  assertThrows(() => parseFilters("{"), InvalidArgument, "invalid filter");
});

Deno.test("empty bodies: required ones are Docker's 400, optional ones are {}", () => {
  assertThrows(
    () => decodeBytes(VolumeCreate, new Uint8Array(0)),
    InvalidArgument,
    "got EOF while reading request body",
  );
  assertEquals(decodeBytes(ExecStartCheck, new TextEncoder().encode(" \n"), "optional"), {});
});

Deno.test("a map key __proto__ is kept as data (Deno has no __proto__ accessor; node would)", () => {
  const b = decodeBody(
    ContainerCreate,
    '{"NetworkingConfig":{"EndpointsConfig":{"__proto__":{"Aliases":["x"]}}},' +
      '"HostConfig":{"PortBindings":{"__proto__":[{"HostPort":"1"}]}}}',
  )!;
  assertEquals(({} as Record<string, unknown>).Aliases, undefined);
  const eps = b.NetworkingConfig!.EndpointsConfig!;
  assertEquals(Object.getPrototypeOf(eps), Object.prototype);
  assertEquals(Object.keys(eps), ["__proto__"]);
  assertEquals(Object.getOwnPropertyDescriptor(eps, "__proto__")?.value, { Aliases: ["x"] });
});
