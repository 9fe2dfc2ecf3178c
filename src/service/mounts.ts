/**
 * What the kernel has mounted: parsing /proc/self/mountinfo, and detecting and
 * clearing stale vibe mounts (the serving daemon died and left the mount
 * behind; every access then fails with ENOTCONN).
 */
import { MNT_DETACH, MNT_FORCE, umount2 } from "../../ffi/libc_linux.ts";

export interface MountEntry {
  mountpoint: string;
  fstype: string;
  source: string;
  /** Per-superblock options (NFS lists its `port=` here). */
  options: string;
}

/** Decodes the octal escapes mountinfo uses for spaces and the like. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

export function listMounts(): MountEntry[] {
  let text = "";
  try {
    text = Deno.readTextFileSync("/proc/self/mountinfo");
  } catch {
    return [];
  }
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const l = left.split(" ");
    const r = right.split(" ");
    out.push({
      mountpoint: unescape(l[4] ?? ""),
      fstype: r[0] ?? "",
      source: unescape(r[1] ?? ""),
      options: r[2] ?? "",
    });
  }
  return out;
}

/** An NFS mount of a vibe export (`<host>:/vibe/<id>/<secret>`). */
export function isVibeNfs(m: MountEntry): boolean {
  return m.fstype.startsWith("nfs") && /^[^:]+:\/vibe\/[^/]+\/[0-9a-f]+$/.test(m.source);
}

/** Mounts made by vibe (FUSE type "fuse.vibe", or NFS of a vibe export). */
export function vibeMounts(): MountEntry[] {
  return listMounts().filter((m) =>
    m.fstype === "fuse.vibe" || m.source.startsWith("vibe:") || isVibeNfs(m)
  );
}

export function pathExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

export function isMounted(path: string): boolean {
  return listMounts().some((m) => m.mountpoint === path);
}

export type MountHealth = "ok" | "stale" | "unresponsive" | "error";

/**
 * Whether the server behind a mount answers. The probe is a `stat` in a child
 * process killed after `timeoutMs`: a stat of a FUSE mount whose server is
 * alive but stuck would block the caller in the kernel (uninterruptible for
 * this process), so this process never touches a mount it is unsure of.
 * "stale": the server is gone (ENOTCONN); "unresponsive": no answer in time.
 */
export async function probeMount(path: string, timeoutMs = 2000): Promise<MountHealth> {
  const child = new Deno.Command("stat", {
    args: ["-c", "%i", "--", path],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
  }, timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  if (out.success) return "ok";
  if (out.signal === "SIGKILL") return "unresponsive";
  return /not connected/i.test(new TextDecoder().decode(out.stderr)) ? "stale" : "error";
}

/** Whether something accepts connections on an NFS mount's server port. */
async function listening(m: MountEntry): Promise<boolean> {
  const port = Number(m.options.match(/(?:^|,)port=(\d+)/)?.[1] ?? 0);
  const host = m.source.slice(0, m.source.indexOf(":"));
  if (!port) return false;
  try {
    const c = await Deno.connect({ hostname: host, port });
    c.close();
    return true;
  } catch {
    return false;
  }
}

/** Detaches a mount left behind at `path` by a dead daemon; false when nothing stale is there. */
export async function clearStaleMount(path: string): Promise<boolean> {
  const entry = listMounts().find((m) => m.mountpoint === path);
  if (!entry) return false;
  const health = await probeMount(path);
  // A hard NFS mount whose server is gone does not fail: it waits forever.
  // Gone means nothing listens on its port any more (a slow server is not).
  const nfsGone = isVibeNfs(entry) && health !== "ok" && !(await listening(entry));
  if (health !== "stale" && !nfsGone) return false;
  const err = umount2(path, nfsGone ? MNT_FORCE | MNT_DETACH : MNT_DETACH);
  if (err !== null) throw new Error(`cannot detach the stale mount at "${path}": ${err}`);
  return true;
}

/** Why this process cannot make FUSE mounts, in one line; null when it can. */
export function fuseUnavailableReason(): string | null {
  if (Deno.build.os !== "linux") return `FUSE mounts need Linux (this is ${Deno.build.os})`;
  try {
    Deno.openSync("/dev/fuse", { read: true, write: true }).close();
  } catch (e) {
    return e instanceof Deno.errors.NotFound
      ? "/dev/fuse is missing (modprobe fuse, or pass --device /dev/fuse to the container)"
      : `/dev/fuse cannot be opened (${(e as Error).message})`;
  }
  if (Deno.uid() !== 0) {
    return "FUSE mounts need root in this build (mounting as a normal user through fusermount3 " +
      'is not supported): run vibe as root, or use "vibe spawn --no-mount" and "vibe serve <id> --nfs"';
  }
  return null;
}
