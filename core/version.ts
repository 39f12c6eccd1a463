/** berth's version, reported by `berth version` and the Engine API. */
export const BERTH_VERSION = "0.1.0";
