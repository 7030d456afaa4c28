/**
 * A folder's files by name (names may hold `/`: `checkpoint/optimizer.safetensors`): what trainers, adapters and
 * caches read and write, whether the folder is on disk (Node: `folderStore`) or in memory (`memoryStore`, a browser).
 */
export interface FileStore {
  /** Where the files are, for messages: the folder's path, or a label. */
  readonly location: string;
  /** A file's bytes, or null when it does not exist. */
  read(name: string): Promise<Uint8Array | null>;
  /** Replaces a file so that readers see the old or the complete new content, never a part. */
  write(name: string, data: string | Uint8Array): Promise<void>;
  /** Appends text to a file (created when missing). */
  append(name: string, text: string): Promise<void>;
  /** Removes a file, or every file under `name/`; nothing when there is none. */
  remove(name: string): Promise<void>;
}

/** A file's text (UTF-8), or null when it does not exist. */
export async function readText(store: FileStore, name: string): Promise<string | null> {
  const bytes = await store.read(name);
  return bytes === null ? null : new TextDecoder().decode(bytes);
}

/** A {@link FileStore} in memory (its `files` map is open to read): a browser's trainer and caches. */
export function memoryStore(location = '<memory>'): FileStore & { files: Map<string, Uint8Array> } {
  const files = new Map<string, Uint8Array>();
  const bytesOf = (data: string | Uint8Array) => (typeof data === 'string' ? new TextEncoder().encode(data) : data.slice());
  return {
    location,
    files,
    read: async (name) => files.get(name)?.slice() ?? null,
    write: async (name, data) => void files.set(name, bytesOf(data)),
    append: async (name, text) => {
      const old = files.get(name) ?? new Uint8Array(0);
      const add = bytesOf(text);
      const all = new Uint8Array(old.byteLength + add.byteLength);
      all.set(old);
      all.set(add, old.byteLength);
      files.set(name, all);
    },
    remove: async (name) => {
      for (const k of [...files.keys()]) if (k === name || k.startsWith(`${name}/`)) files.delete(k);
    },
  };
}
