import assert from "node:assert/strict";
import { VibeError } from "../errors.ts";
import { NAME_MAX, utf8Length, validateName } from "./names.ts";

function codeOf(name: string): string | null {
  try {
    validateName(name);
    return null;
  } catch (e) {
    assert.ok(e instanceof VibeError);
    return e.code;
  }
}

Deno.test("validateName: rejects reserved and malformed names with EINVAL", () => {
  for (const bad of ["", ".", "..", "/", "a/b", "a\0b", "\0", "x/"]) {
    assert.equal(codeOf(bad), "EINVAL", JSON.stringify(bad));
  }
});

Deno.test("validateName: accepts ordinary names", () => {
  for (const ok of ["a", "...", ".a", "a.", "..a", " ", "ünï", "😀", "a\\b", "\n"]) {
    assert.equal(codeOf(ok), null, JSON.stringify(ok));
  }
});

Deno.test("validateName: limits names to 255 bytes of UTF-8", () => {
  assert.equal(NAME_MAX, 255);
  const cases: [string, boolean][] = [
    ["a".repeat(255), true],
    ["a".repeat(256), false],
    ["é".repeat(127) + "a", true],
    ["é".repeat(128), false],
    ["€".repeat(85), true],
    ["€".repeat(85) + "a", false],
    ["😀".repeat(63) + "abc", true],
    ["😀".repeat(64), false],
    ["\ud800".repeat(85), true], // lone surrogates count 3 bytes each
    ["\ud800".repeat(86), false],
  ];
  for (const [name, ok] of cases) {
    assert.equal(codeOf(name), ok ? null : "ENAMETOOLONG", `${name.length} units`);
  }
});

Deno.test("utf8Length: agrees with TextEncoder", () => {
  const enc = new TextEncoder();
  for (const s of ["", "abc", "é", "€", "😀", "a😀b€é", "\ud800", "\udc00x", "\ud800\ud800"]) {
    assert.equal(utf8Length(s), enc.encode(s).length, JSON.stringify(s));
  }
});

Deno.test("validateName: messages quote the name", () => {
  try {
    validateName("a/b");
    assert.fail("expected a throw");
  } catch (e) {
    assert.ok(e instanceof VibeError);
    assert.equal(e.message, `Invalid name "a/b": names cannot contain "/"`);
  }
});
