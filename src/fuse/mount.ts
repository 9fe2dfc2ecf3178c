/**
 * mount(2)/umount2(2) of a FUSE filesystem on an open /dev/fuse fd, and the
 * /proc/self/mountinfo and fusectl helpers around them.
 *
 * Invariants:
 * - The filesystem type is "fuse.vibe" with source "vibe:<name>", so vibe's
 *   mounts are recognisable in /proc/mounts; flags are MS_NOSUID|MS_NODEV.
 * - Unmounting runs umount2 on the blocking pool: the kernel may need this
 *   process to answer requests (flushing dirty mmap pages) before it returns.
 */
import { VibeError } from "../errors.ts";
import { MNT_DETACH, mount, MS_NODEV, MS_NOSUID, umount2Async } from "../../ffi/libc_linux.ts";

export const FUSE_FSTYPE = "fuse.vibe";

/** What `fuseMountData` needs. */
export interface MountSpec {
  fd: number;
  uid: number;
  gid: number;
  allowOther: boolean;
  /** Largest READ the kernel may send (bytes). */
  maxRead: number;
}

/** The option string of mount(2) for a FUSE mount. */
export function fuseMountData(spec: MountSpec): string {
  const opts = [
    `fd=${spec.fd}`,
    "rootmode=40000",
    `user_id=${spec.uid}`,
    `group_id=${spec.gid}`,
    "default_permissions",
    `max_read=${spec.maxRead}`,
  ];
  if (spec.allowOther) opts.push("allow_other");
  return opts.join(",");
}

/** mount(2) of the FUSE connection `spec.fd` at `target`; throws VibeError on failure. */
export function mountFuseFd(source: string, target: string, spec: MountSpec): void {
  const err = mount(source, target, FUSE_FSTYPE, MS_NOSUID | MS_NODEV, fuseMountData(spec));
  if (err === null) return;
  const code = err === "EPERM" || err === "EACCES" || err === "ENOENT" || err === "ENOTDIR" ||
      err === "EBUSY" || err === "EINVAL"
    ? err
    : "EIO";
  throw new VibeError(code, `Cannot mount "${target}": mount(2) failed with ${err}`);
}

/** One line of /proc/self/mountinfo, the fields vibe uses. */
export interface MountInfo {
  /** "major:minor" of the mounted filesystem. */
  dev: string;
  mountPoint: string;
  fstype: string;
  source: string;
}

/** Undoes mountinfo's octal escapes (\040 for space, \011, \012, \134). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses /proc/self/mountinfo text. */
export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const dash = line.indexOf(" - ");
    if (dash < 0) continue;
    const left = line.slice(0, dash).split(" ");
    const right = line.slice(dash + 3).split(" ");
    out.push({
      dev: left[2] ?? "",
      mountPoint: unescape(left[4] ?? ""),
      fstype: right[0] ?? "",
      source: unescape(right[1] ?? ""),
    });
  }
  return out;
}

/** Mounts of this process's namespace. */
export async function listMountInfo(): Promise<MountInfo[]> {
  return parseMountInfo(await Deno.readTextFile("/proc/self/mountinfo"));
}

/** "major:minor" of a stat's st_dev (glibc's encoding). */
export function devString(dev: number): string {
  const major = (Math.floor(dev / 2 ** 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
  const minor = (dev & 0xff) | (Math.floor(dev / 2 ** 12) & ~0xff);
  return `${major}:${minor}`;
}

/** True while a FUSE mount with device `dev` ("major:minor", or any when null) sits at `target`. */
export async function isFuseMounted(target: string, dev: string | null): Promise<boolean> {
  return (await listMountInfo()).some((m) =>
    m.mountPoint === target && m.fstype === FUSE_FSTYPE && (dev === null || m.dev === dev)
  );
}

/**
 * Unmounts `target`: umount2(target, 0), and when that leaves the mount in
 * place (EBUSY: open files, a cwd inside), a lazy MNT_DETACH. Resolves once
 * the mount is gone from the namespace (its connection may live on until the
 * last open file closes). Throws VibeError EBUSY when even the detach fails.
 */
export async function unmountFuse(
  target: string,
  dev: string | null,
): Promise<"clean" | "detached"> {
  if ((await umount2Async(target, 0)) === 0) return "clean";
  if (!(await isFuseMounted(target, dev))) return "clean";
  if ((await umount2Async(target, MNT_DETACH)) === 0 || !(await isFuseMounted(target, dev))) {
    return "detached";
  }
  throw new VibeError(
    "EBUSY",
    `Cannot unmount "${target}": umount2 failed (run "umount -l ${target}")`,
  );
}

/**
 * Sets the readahead window of the mount's backing device (sysfs, root only;
 * best effort). The kernel offers FUSE mounts 128 KiB, which caps sequential
 * READs at 128 KiB however large max_pages is; 1 MiB READs move a large file
 * in a quarter of the requests.
 */
export async function setReadAheadKb(dev: string, kb: number): Promise<boolean> {
  try {
    await Deno.writeTextFile(`/sys/class/bdi/${dev}/read_ahead_kb`, String(kb));
    return true;
  } catch {
    return false;
  }
}

const FUSECTL = "/sys/fs/fuse/connections";

/**
 * Aborts the FUSE connection with device minor `minor` through fusectl
 * (mounting fusectl first when it is not, as systemd does at boot). Used after
 * a lazy unmount when open files keep the connection alive past a grace
 * period. Returns false when fusectl is unavailable.
 */
export async function abortConnection(minor: number): Promise<boolean> {
  const file = `${FUSECTL}/${minor}/abort`;
  const tryWrite = async () => {
    try {
      await Deno.writeTextFile(file, "1");
      return true;
    } catch {
      return false;
    }
  };
  if (await tryWrite()) return true;
  const mounted = (await listMountInfo()).some((m) => m.mountPoint === FUSECTL);
  if (mounted) return false;
  if (mount("fusectl", FUSECTL, "fusectl", 0, "") !== null) return false;
  return await tryWrite();
}
