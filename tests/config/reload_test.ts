// Reload rules from nats-server server/reload.go diffOptions (the option-level part of reload_test.go).
import { assertEquals, assertThrows } from "@std/assert";
import {
  configToOptions,
  defaultOptions,
  diffOptions,
  parseConfig,
  setBaselineOptions,
} from "../../src/config/mod.ts";

const load = (text: string) => setBaselineOptions(configToOptions(parseConfig(text, { file: "r.conf" })));

Deno.test("diffOptions() lists reloadable changes by Options field", () => {
  const a = load("debug: false\nmax_payload: 1MB\nauthorization { user: a, pass: b }");
  const b = load('debug: true\nmax_payload: 2MB\nauthorization { user: a, pass: c }\nping_interval: "1m"');
  assertEquals(diffOptions(a, b).changed, ["maxPayload", "pingIntervalMs", "debug", "password"]);
  assertEquals(diffOptions(a, a).changed, []);
});

Deno.test("diffOptions() refuses non-reloadable changes with nats-server's text", () => {
  assertThrows(
    () => diffOptions(load("port: 4222"), load("port: 4223")),
    "config reload not supported for Port: old=4222, new=4223",
  );
  assertThrows(
    () => diffOptions(load("host: 127.0.0.1"), load("host: 0.0.0.0")),
    "config reload not supported for Host: old=127.0.0.1, new=0.0.0.0",
  );
  assertThrows(
    () => diffOptions(load("server_name: a"), load("server_name: b")),
    "config reload not supported for ServerName: old=a, new=b",
  );
  assertThrows(
    () => diffOptions(load("max_pending: 1000"), load("max_pending: 2000")),
    "config reload not supported for MaxPending: old=1000, new=2000",
  );
  assertThrows(
    () => diffOptions(load("gateway { name: a }"), load("gateway { name: b }")),
    "config reload not supported for Gateway: old=map[name:a], new=map[name:b]",
  );
});

Deno.test("diffOptions() lets a random port through", () => {
  assertEquals(diffOptions(load("port: 4222"), load("port: -1")).changed, []);
});

Deno.test("diffOptions() applies no_auth_user and JetStream rules", () => {
  const users = "authorization { users = [ {user: a, password: a} ] }\n";
  assertThrows(
    () => diffOptions(load(users + "no_auth_user: a"), load(users)),
    "config reload not supported for NoAuthUser: old=a, new=",
  );
  assertEquals(
    diffOptions(load(users + "no_auth_user: a"), load("")).changed,
    ["users", "noAuthUser"],
  );
  const js = defaultOptions({ jetStream: true, storeDir: "/a" });
  assertThrows(
    () => diffOptions(js, { ...js, storeDir: "/b" }),
    "config reload not supported for jetstream storage directory",
  );
  assertThrows(
    () => diffOptions(js, { ...js, jetStreamMaxMemory: 100 }),
    "config reload not supported for jetstream dynamic max memory and store",
  );
  assertEquals(diffOptions(js, { ...js, jetStream: false, storeDir: "" }).changed, ["jetStream", "storeDir"]);
});
