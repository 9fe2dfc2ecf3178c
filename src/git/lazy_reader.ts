/**
 * An `ObjectReader` that answers ref questions (HEAD, branches) directly and
 * loads the native object reader only when an object is first needed. Commands
 * such as `vibe spawn` on an indexed commit read no object at all and so never
 * pay for loading zlib and opening pack indexes.
 */
import type { Oid } from "../types.ts";
import type {
  Commit,
  HeadState,
  ObjectReader,
  RawObject,
  RepoPaths,
  TreeEntry,
} from "./object_store.ts";
import { RefReader } from "./refs_read.ts";

export class LazyObjectReader implements ObjectReader {
  readonly #paths: RepoPaths;
  readonly #refs: RefReader;
  #impl: ObjectReader | null = null;
  #loading: Promise<ObjectReader> | null = null;

  constructor(paths: RepoPaths) {
    this.#paths = paths;
    this.#refs = new RefReader(paths);
  }

  #get(): Promise<ObjectReader> {
    if (this.#impl) return Promise.resolve(this.#impl);
    this.#loading ??= import("./native_reader.ts").then(({ NativeObjectReader }) => {
      this.#impl = new NativeObjectReader(this.#paths);
      return this.#impl;
    });
    return this.#loading;
  }

  async readObject(oid: Oid): Promise<RawObject> {
    return await (await this.#get()).readObject(oid);
  }
  async readBlob(oid: Oid): Promise<Uint8Array> {
    return await (await this.#get()).readBlob(oid);
  }
  async blobSize(oid: Oid): Promise<number> {
    return await (await this.#get()).blobSize(oid);
  }
  async readTree(oid: Oid): Promise<TreeEntry[]> {
    return await (await this.#get()).readTree(oid);
  }
  async readCommit(oid: Oid): Promise<Commit> {
    return await (await this.#get()).readCommit(oid);
  }
  async hasObject(oid: Oid): Promise<boolean> {
    return await (await this.#get()).hasObject(oid);
  }
  async revParse(rev: string): Promise<Oid> {
    return await (await this.#get()).revParse(rev);
  }
  resolveRef(name: string): Promise<Oid | null> {
    if (this.#impl) return this.#impl.resolveRef(name);
    try {
      return Promise.resolve(this.#refs.resolve(name));
    } catch (e) {
      return Promise.reject(e);
    }
  }
  readHead(): Promise<HeadState> {
    if (this.#impl) return this.#impl.readHead();
    try {
      return Promise.resolve(this.#refs.readHead());
    } catch (e) {
      return Promise.reject(e);
    }
  }
  refresh(): void {
    this.#refs.refresh();
    this.#impl?.refresh();
  }
  close(): void {
    this.#impl?.close();
  }
}
