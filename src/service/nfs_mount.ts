/**
 * Local NFS mounts of a vibe the daemon serves over NFSv3 on 127.0.0.1: how
 * macOS mounts a vibe without a kernel extension, and Linux without FUSE.
 *
 * The daemon is the server, so it never waits for a mount or an unmount on
 * its own thread: Linux's mount(2)/umount2(2) run on the blocking pool, the
 * macOS tools in child processes, while the event loop answers the
 * kernel's MNT, FSINFO and GETATTR calls.
 *
 * Options (Linux; macOS takes the same meaning in its own words):
 * - `vers=3,proto=tcp,port=P,mountport=P,mountproto=tcp`: one port serves
 *   NFS and MOUNT; `addr`/`mountaddr` given, so no name lookup and no
 *   portmapper; `nolock`: locks stay local (there is no NLM server).
 * - `hard,timeo=600,retrans=2`: a restarting daemon makes programs wait,
 *   never fail half-way (handles survive restarts).
 * - `actimeo=1`: attributes and directory entries are cached for 1 s. Every
 *   change made through the mount is seen at once by the writer; changes
 *   made from outside (restore, undo, commit --sync) reach the client
 *   within a second, since NFSv3 has no way to push an invalidation.
 * - `rsize=wsize=1048576`: the server's largest transfer.
 * - `nosuid,nodev`; reserved (privileged) source ports, which the vibe's
 *   listener then requires, so a local user without root cannot use the
 *   export path that /proc/mounts shows.
 */
import { VibeError } from "../errors.ts";
import {
  MNT_DETACH,
  MNT_FORCE,
  mountAsync,
  MS_NODEV,
  MS_NOSUID,
  umount2Async,
} from "../../ffi/libc_linux.ts";

export const NFS_HOST = "127.0.0.1";
const MAX_IO = 1 << 20;

/** Why this machine cannot mount NFS locally, in one line; null when it can. */
export function nfsClientUnavailableReason(): string | null {
  if (Deno.build.os === "darwin") {
    try {
      Deno.statSync("/sbin/mount_nfs");
      return null;
    } catch {
      return "/sbin/mount_nfs is missing";
    }
  }
  if (Deno.build.os !== "linux") {
    return `local NFS mounts need Linux or macOS (this is ${Deno.build.os})`;
  }
  if (Deno.uid() !== 0) return "NFS mounts need root on Linux";
  let fs = "";
  try {
    fs = Deno.readTextFileSync("/proc/filesystems");
  } catch { /* no procfs */ }
  if (/\tnfs\n/.test(fs)) return null;
  let release = "";
  try {
    release = Deno.readTextFileSync("/proc/sys/kernel/osrelease").trim();
  } catch { /* unknown */ }
  for (const ext of ["ko", "ko.xz", "ko.zst", "ko.gz"]) {
    try {
      Deno.statSync(`/lib/modules/${release}/kernel/fs/nfs/nfs.${ext}`);
      return 'this kernel has not loaded its NFS client (run "modprobe nfs")';
    } catch { /* next */ }
  }
  return "this kernel has no NFS client (nfs is not in /proc/filesystems and there is no nfs module)";
}

/** The mount(2) data string for Linux (see the module comment). */
export function linuxNfsOptions(port: number): string {
  return [
    "vers=3",
    "proto=tcp",
    `port=${port}`,
    `mountport=${port}`,
    "mountproto=tcp",
    `addr=${NFS_HOST}`,
    `mountaddr=${NFS_HOST}`,
    "nolock",
    "hard",
    "timeo=600",
    "retrans=2",
    "actimeo=1",
    `rsize=${MAX_IO}`,
    `wsize=${MAX_IO}`,
  ].join(",");
}

/** The `mount_nfs -o` argument for macOS. */
export function darwinNfsOptions(port: number): string {
  return [
    "vers=3",
    "tcp",
    `port=${port}`,
    `mountport=${port}`,
    "nolocks",
    "locallocks",
    "hard",
    "actimeo=1",
    `rsize=${MAX_IO}`,
    `wsize=${MAX_IO}`,
    "nosuid",
    "nodev",
    "resvport",
  ].join(",");
}

/** Mounts `exportPath` served on `port` at `target`. */
export async function mountNfs(exportPath: string, port: number, target: string): Promise<void> {
  const why = nfsClientUnavailableReason();
  if (why) {
    throw new VibeError(
      "ENOSYS",
      `Cannot mount over NFS: ${why} (use --transport fuse, or "vibe serve <id> --nfs" to export the vibe to a VM or another machine)`,
    );
  }
  Deno.mkdirSync(target, { recursive: true });
  const source = `${NFS_HOST}:${exportPath}`;
  if (Deno.build.os === "darwin") {
    const out = await new Deno.Command("/sbin/mount_nfs", {
      args: ["-o", darwinNfsOptions(port), source, target],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new VibeError(
        "EIO",
        `Cannot mount over NFS at "${target}": mount_nfs failed: ${
          new TextDecoder().decode(out.stderr).trim()
        }`,
      );
    }
    return;
  }
  const rc = await mountAsync(source, target, "nfs", MS_NOSUID | MS_NODEV, linuxNfsOptions(port));
  if (rc !== 0) {
    throw new VibeError(
      "EIO",
      `Cannot mount over NFS at "${target}": mount(2) failed (the daemon log shows whether the ` +
        `kernel reached the server; to see the kernel's reason run: mount -t nfs -o ` +
        `${linuxNfsOptions(port)} ${NFS_HOST}:<export> <dir>)`,
    );
  }
}

/** Unmounts an NFS mount; `force` also for a server that no longer answers. */
export async function unmountNfs(target: string, force = false): Promise<void> {
  if (Deno.build.os === "darwin") {
    const out = await new Deno.Command("/sbin/umount", {
      args: force ? ["-f", target] : [target],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success && !force) await unmountNfs(target, true);
    return;
  }
  if ((await umount2Async(target, force ? MNT_FORCE | MNT_DETACH : 0)) !== 0 && !force) {
    // Busy (an open file, a shell's cwd): detach now, finish when released.
    await umount2Async(target, MNT_DETACH);
  }
}
