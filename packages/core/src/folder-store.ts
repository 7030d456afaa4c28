import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from './atomic.js';
import type { FileStore } from './file-store.js';

/** A {@link FileStore} over a folder on disk; writes are atomic ({@link writeFileAtomic}) and make missing folders. */
export function folderStore(dir: string): FileStore {
  const at = (name: string) => path.join(dir, name);
  return {
    location: dir,
    read: async (name) => {
      try {
        return await fs.readFile(at(name));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw new Error(`${at(name)}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    },
    write: (name, data) => writeFileAtomic(at(name), data),
    append: async (name, text) => {
      await fs.mkdir(path.dirname(at(name)), { recursive: true });
      await fs.appendFile(at(name), text);
    },
    remove: (name) => fs.rm(at(name), { recursive: true, force: true }),
  };
}
