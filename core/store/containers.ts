/**
 * Container records: `<root>/containers/<id>/config.v2.json` holds one
 * container in (nearly) Docker's inspect shape, written atomically on every
 * change; the directory also holds the json-file log, hosts/hostname/
 * resolv.conf and the overlay upper/work dirs. All records are loaded into
 * memory at start, so `ps` never touches the disk.
 *
 * @example
 * ```ts ignore
 * const store = new ContainerStore("/var/lib/berth");
 * await store.init();
 * const c = store.resolve("my-name");     // by name, full ID or unique ID prefix
 * c.State.Running = false;
 * await store.save(c);
 * ```
 * @module
 */
import { Conflict, InvalidArgument, NotFound } from "../errdefs/mod.ts";
import { readJson, removeStaleTemps, writeJsonAtomic } from "./atomic.ts";
import type {
  ContainerJSON,
  ContainerState,
  MountPoint as ApiMountPoint,
  NetworkSettings,
} from "../api/types.ts";
import { errorText, removeIfExists } from "../errdefs/ignore.ts";

/** Go's zero time, as Docker prints it. */
export const ZERO_TIME = "0001-01-01T00:00:00Z";
/** How often a record that could not be written is tried again. */
const RETRY_MS = 2000;

export type { ContainerState };

/**
 * Docker's MountPoint (inspect `Mounts`) plus what berth keeps for itself;
 * the view (modes/daemon/containers/views.ts) shows only Docker's fields.
 */
export interface MountPoint extends ApiMountPoint {
  /** berth: volume created for this container (anonymous), removed with `rm -v` */
  Anonymous?: boolean;
  /** berth: tmpfs options / bind propagation etc. for the runtime spec */
  Options?: string[];
  /** berth: do not copy image content into a new volume */
  NoCopy?: boolean;
}

/**
 * What a record keeps of NetworkSettings: set as the container is wired
 * (modes/daemon/networks/endpoints.ts), `{}` until then; inspect fills the
 * rest (modes/daemon/containers/views.ts networkSettings).
 */
export type StoredNetworkSettings = Partial<NetworkSettings>;

/** berth: one legacy link (`--link name:alias`): the child's ID and the alias. */
export interface LinkRef {
  Id: string;
  Alias: string;
}

/**
 * The stored record: the inspect shape's own fields (Image is the image ID,
 * Name is "/name", Config.Image what the user typed), the network settings as
 * stored, and berth's bookkeeping.
 */
export interface ContainerRecord extends
  Pick<
    ContainerJSON,
    | "Id"
    | "Created"
    | "Path"
    | "Args"
    | "State"
    | "Image"
    | "ResolvConfPath"
    | "HostnamePath"
    | "HostsPath"
    | "LogPath"
    | "Name"
    | "RestartCount"
    | "Driver"
    | "Platform"
    | "Config"
    | "HostConfig"
  > {
  NetworkSettings: StoredNetworkSettings;
  MountPoints: MountPoint[];
  /** berth bookkeeping */
  HasBeenStartedBefore: boolean;
  HasBeenManuallyStopped: boolean;
  /** chain IDs of the image's layers, bottom first (overlay lowers) */
  Layers: string[];
  /** legacy links on the default bridge, registered at create (modes/daemon/containers/links.ts) */
  LinkRefs?: LinkRef[];
}

export class ContainerStore {
  readonly root: string;
  #byId = new Map<string, ContainerRecord>();
  #byName = new Map<string, string>();
  /** records whose last write failed (saveOrDefer) */
  #deferred = new Set<string>();
  #retry: ReturnType<typeof setTimeout> | undefined;

  constructor(root: string) {
    this.root = root;
  }

  get dir(): string {
    return `${this.root}/containers`;
  }

  dirOf(id: string): string {
    return `${this.dir}/${id}`;
  }

  /**
   * Load the records. One that cannot be read (bad JSON, an I/O error) is
   * left on disk as it is and reported through `warn`, not dropped.
   */
  async init(warn: (msg: string) => void = console.error): Promise<void> {
    await Deno.mkdir(this.dir, { recursive: true, mode: 0o710 });
    for await (const e of Deno.readDir(this.dir)) {
      if (!e.isDirectory || !/^[a-f0-9]{64}$/.test(e.name)) continue;
      await removeStaleTemps(this.dirOf(e.name));
      let r: ContainerRecord | null;
      try {
        r = await readJson<ContainerRecord | null>(`${this.dirOf(e.name)}/config.v2.json`, null);
      } catch (err) {
        warn(`container ${e.name} not loaded, its record is unreadable: ${errorText(err)}`);
        continue;
      }
      if (!r) {
        // Half-created (crash between mkdir and first save): nothing to keep.
        await removeIfExists(this.dirOf(e.name), { recursive: true });
        continue;
      }
      this.#byId.set(r.Id, r);
      this.#byName.set(r.Name, r.Id);
    }
  }

  list(): ContainerRecord[] {
    return [...this.#byId.values()];
  }

  get(id: string): ContainerRecord | undefined {
    return this.#byId.get(id);
  }

  /** Docker's lookup order: full ID, exact name, unique ID prefix. */
  tryResolve(ref: string): ContainerRecord | undefined {
    if (!ref) return undefined;
    const byId = this.#byId.get(ref);
    if (byId) return byId;
    const name = ref.startsWith("/") ? ref : `/${ref}`;
    const byName = this.#byName.get(name);
    if (byName) return this.#byId.get(byName);
    if (!/^[a-f0-9]+$/.test(ref)) return undefined;
    let hit: ContainerRecord | undefined;
    for (const [id, r] of this.#byId) {
      if (id.startsWith(ref)) {
        if (hit) throw new InvalidArgument(`multiple IDs found with provided prefix: ${ref}`);
        hit = r;
      }
    }
    return hit;
  }

  resolve(ref: string): ContainerRecord {
    const r = this.tryResolve(ref);
    if (!r) throw new NotFound(`No such container: ${ref}`);
    return r;
  }

  nameTaken(name: string): string | undefined {
    return this.#byName.get(name.startsWith("/") ? name : `/${name}`);
  }

  /** Register a new record (name must be free) and persist it. */
  async add(r: ContainerRecord): Promise<void> {
    const other = this.#byName.get(r.Name);
    if (other) {
      throw new Conflict(
        `Conflict. The container name "${r.Name}" is already in use by container "${other}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
    this.#byId.set(r.Id, r);
    this.#byName.set(r.Name, r.Id);
    try {
      await Deno.mkdir(this.dirOf(r.Id), { recursive: true, mode: 0o710 });
      await this.save(r);
    } catch (e) {
      // e.g. a full disk: a create that fails leaves no record and no dir
      await this.remove(r);
      throw e;
    }
  }

  async save(r: ContainerRecord): Promise<void> {
    if (!this.#byId.has(r.Id)) return; // removed meanwhile
    await writeJsonAtomic(`${this.dirOf(r.Id)}/config.v2.json`, r);
    this.#deferred.delete(r.Id);
  }

  /**
   * Save a change that has already happened (a container signalled, or gone).
   * When the write fails (a full disk) the record in memory stays the truth
   * and the write is retried every few seconds and at `flush()`; the error
   * is returned for the log.
   */
  async saveOrDefer(r: ContainerRecord): Promise<Error | undefined> {
    try {
      await this.save(r);
      return undefined;
    } catch (e) {
      this.#deferred.add(r.Id);
      this.#armRetry();
      return e instanceof Error ? e : new Error(String(e));
    }
  }

  /** Write the deferred records now; true when none is left. */
  async flush(): Promise<boolean> {
    for (const id of [...this.#deferred]) {
      const r = this.#byId.get(id);
      if (!r) this.#deferred.delete(id);
      else await this.save(r).catch(() => {}); // still no room: kept for the next round
    }
    return this.#deferred.size === 0;
  }

  #armRetry(): void {
    if (this.#retry !== undefined) return;
    const t = setTimeout(async () => {
      this.#retry = undefined;
      if (!await this.flush()) this.#armRetry();
    }, RETRY_MS);
    Deno.unrefTimer(t);
    this.#retry = t;
  }

  async rename(r: ContainerRecord, name: string): Promise<void> {
    const n = name.startsWith("/") ? name : `/${name}`;
    const other = this.#byName.get(n);
    if (other && other !== r.Id) {
      throw new Conflict(
        `Conflict. The container name "${n}" is already in use by container "${other}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
    this.#byName.delete(r.Name);
    r.Name = n;
    this.#byName.set(n, r.Id);
    await this.save(r);
  }

  /** Forget a record and delete its directory (logs, upper dir, …). */
  async remove(r: ContainerRecord): Promise<void> {
    this.#byId.delete(r.Id);
    this.#deferred.delete(r.Id);
    if (this.#byName.get(r.Name) === r.Id) this.#byName.delete(r.Name);
    await removeIfExists(this.dirOf(r.Id), { recursive: true });
  }
}
