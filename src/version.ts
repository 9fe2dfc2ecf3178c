/** vibe's version (CLI --version, daemon handshake). */
export const VERSION = "0.1.0";
