//! The command table: for each known command, where its keys are, so the sanitizer keeps keys
//! and replaces every other argument by `?`. Lookups compare names ASCII-case-insensitively
//! without allocating.

/// Where the keys of a command are. Positions count the arguments after the command name
/// word(s), starting at 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keys {
    /// No key: every argument is a value.
    None,
    /// Keys at `first`, `first + step`, ... up to `last` (negative: counted from the end,
    /// `-1` is the last argument).
    Range { first: u8, last: i8, step: u8 },
    /// A `numkeys` argument at position `at`, followed by that many keys (`EVAL script
    /// numkeys key.. arg..`); with `dest` the first argument is a key too (`ZUNIONSTORE`).
    Counted { at: u8, dest: bool },
    /// `XREAD .. STREAMS key.. id..`: the first half of the arguments after `STREAMS`.
    Streams,
    /// `MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw]
    /// [KEYS key..]`: secret when it carries `AUTH`/`AUTH2`.
    Migrate,
    /// `HELLO [protover [AUTH user pass] [SETNAME name]]`: secret when it carries `AUTH`.
    Hello,
    /// Arguments are never recorded, whatever the query text mode (`AUTH`, `CONFIG SET`,
    /// `ACL SETUSER`, ...).
    Secret,
    /// The first argument names a subcommand (`CONFIG GET`, `XINFO STREAM`).
    Container(&'static [Sub]),
}

impl Keys {
    /// `Keys::Range`, written short for the table.
    const fn range(first: u8, last: i8, step: u8) -> Keys {
        Keys::Range { first, last, step }
    }

    /// `Keys::Counted`, written short for the table.
    const fn counted(at: u8, dest: bool) -> Keys {
        Keys::Counted { at, dest }
    }
}

/// A table entry.
const fn spec(name: &'static str, keys: Keys) -> Spec {
    Spec { name, keys }
}

/// A subcommand entry.
const fn sub(name: &'static str, keys: Keys) -> Sub {
    Sub { name, keys }
}

/// A known command.
#[derive(Debug)]
pub(crate) struct Spec {
    /// Upper-case name.
    pub(crate) name: &'static str,
    pub(crate) keys: Keys,
}

/// A known subcommand of a container command.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Sub {
    /// Both words, upper-case: `CONFIG GET`.
    pub(crate) name: &'static str,
    pub(crate) keys: Keys,
}

impl Sub {
    /// The subcommand word alone (`GET` of `CONFIG GET`).
    pub(crate) fn word(&self) -> &'static str {
        self.name
            .split_once(' ')
            .map_or(self.name, |(_, word)| word)
    }
}

/// The spec of the command named `name` (any case): one hash of the name, upper-cased on the
/// fly, then (nearly always) one case-insensitive comparison.
#[cfg(test)]
pub(crate) fn lookup(name: &[u8]) -> Option<&'static Spec> {
    lookup_position(name).map(|(_, spec)| spec)
}

/// [`lookup`] with the position of the command in the table (`0..COMMANDS.len()`), which
/// indexes per-command caches.
pub(crate) fn lookup_position(name: &[u8]) -> Option<(usize, &'static Spec)> {
    if name.len() > MAX_NAME_LEN {
        return None;
    }
    let mut slot = slot_of(name);
    // Ends: fewer than half the slots are used, and an empty slot indexes past the table.
    loop {
        let position = usize::from(*INDEX.get(slot)?);
        let spec = COMMANDS.get(position)?;
        if spec.name.as_bytes().eq_ignore_ascii_case(name) {
            return Some((position, spec));
        }
        slot = (slot + 1) % INDEX_SLOTS;
    }
}

/// Number of per-command cache slots: one per command of the table, one for `_OTHER`.
pub(crate) const CACHE_SLOTS: usize = COMMANDS.len() + 1;

/// The cache slot of `_OTHER` (after the table's).
pub(crate) const OTHER_SLOT: usize = COMMANDS.len();

/// Length of the longest command name in [`COMMANDS`].
const MAX_NAME_LEN: usize = max_name_len();

/// Slots of [`INDEX`], a power of two over twice the number of commands.
const INDEX_SLOTS: usize = 1024;

/// An open-addressing hash index of [`COMMANDS`] (linear probing), built at compile time:
/// each slot holds a position in the table, or `u16::MAX` when empty.
static INDEX: [u16; INDEX_SLOTS] = build_index();

/// The first slot of `name` (any case): FNV-1a over its upper-cased bytes, then a
/// multiplicative mix whose top bits pick the slot.
const fn slot_of(name: &[u8]) -> usize {
    let mut hash: u32 = 0x811c_9dc5;
    let mut i = 0;
    while i < name.len() {
        hash ^= name[i].to_ascii_uppercase() as u32;
        hash = hash.wrapping_mul(0x0100_0193);
        i += 1;
    }
    (hash.wrapping_mul(0x9e37_79b1) >> (32 - INDEX_SLOTS.trailing_zeros())) as usize
}

const fn max_name_len() -> usize {
    let mut max = 0;
    let mut i = 0;
    while i < COMMANDS.len() {
        if COMMANDS[i].name.len() > max {
            max = COMMANDS[i].name.len();
        }
        i += 1;
    }
    max
}

const fn build_index() -> [u16; INDEX_SLOTS] {
    assert!(INDEX_SLOTS.is_power_of_two() && COMMANDS.len() * 2 <= INDEX_SLOTS);
    let mut index = [u16::MAX; INDEX_SLOTS];
    let mut i = 0;
    while i < COMMANDS.len() {
        let mut slot = slot_of(COMMANDS[i].name.as_bytes());
        while index[slot] != u16::MAX {
            slot = (slot + 1) % INDEX_SLOTS;
        }
        index[slot] = i as u16;
        i += 1;
    }
    index
}

/// The known subcommand `word` (any case) of a container.
pub(crate) fn lookup_sub(subs: &'static [Sub], word: &[u8]) -> Option<&'static Sub> {
    subs.iter()
        .find(|sub| sub.word().as_bytes().eq_ignore_ascii_case(word))
}

const SUBS_ACL: &[Sub] = &[
    sub("ACL CAT", Keys::None),
    sub("ACL DELUSER", Keys::None),
    sub("ACL DRYRUN", Keys::None),
    sub("ACL GENPASS", Keys::None),
    sub("ACL GETUSER", Keys::None),
    sub("ACL HELP", Keys::None),
    sub("ACL LIST", Keys::None),
    sub("ACL LOAD", Keys::None),
    sub("ACL LOG", Keys::None),
    sub("ACL SAVE", Keys::None),
    sub("ACL SETUSER", Keys::Secret),
    sub("ACL USERS", Keys::None),
    sub("ACL WHOAMI", Keys::None),
];
const SUBS_CLIENT: &[Sub] = &[
    sub("CLIENT CACHING", Keys::None),
    sub("CLIENT GETNAME", Keys::None),
    sub("CLIENT GETREDIR", Keys::None),
    sub("CLIENT HELP", Keys::None),
    sub("CLIENT ID", Keys::None),
    sub("CLIENT INFO", Keys::None),
    sub("CLIENT KILL", Keys::None),
    sub("CLIENT LIST", Keys::None),
    sub("CLIENT NO-EVICT", Keys::None),
    sub("CLIENT NO-TOUCH", Keys::None),
    sub("CLIENT PAUSE", Keys::None),
    sub("CLIENT REPLY", Keys::None),
    sub("CLIENT SETINFO", Keys::None),
    sub("CLIENT SETNAME", Keys::None),
    sub("CLIENT TRACKING", Keys::None),
    sub("CLIENT TRACKINGINFO", Keys::None),
    sub("CLIENT UNBLOCK", Keys::None),
    sub("CLIENT UNPAUSE", Keys::None),
];
const SUBS_CLUSTER: &[Sub] = &[
    sub("CLUSTER COUNTKEYSINSLOT", Keys::None),
    sub("CLUSTER GETKEYSINSLOT", Keys::None),
    sub("CLUSTER HELP", Keys::None),
    sub("CLUSTER INFO", Keys::None),
    sub("CLUSTER KEYSLOT", Keys::None),
    sub("CLUSTER MYID", Keys::None),
    sub("CLUSTER NODES", Keys::None),
    sub("CLUSTER SHARDS", Keys::None),
    sub("CLUSTER SLOTS", Keys::None),
];
const SUBS_COMMAND: &[Sub] = &[
    sub("COMMAND COUNT", Keys::None),
    sub("COMMAND DOCS", Keys::None),
    sub("COMMAND GETKEYS", Keys::None),
    sub("COMMAND HELP", Keys::None),
    sub("COMMAND INFO", Keys::None),
    sub("COMMAND LIST", Keys::None),
];
const SUBS_CONFIG: &[Sub] = &[
    sub("CONFIG GET", Keys::None),
    sub("CONFIG HELP", Keys::None),
    sub("CONFIG RESETSTAT", Keys::None),
    sub("CONFIG REWRITE", Keys::None),
    sub("CONFIG SET", Keys::Secret),
];
const SUBS_DEBUG: &[Sub] = &[
    sub("DEBUG JMAP", Keys::None),
    sub("DEBUG OBJECT", Keys::range(1, 1, 1)),
    sub("DEBUG RELOAD", Keys::None),
    sub("DEBUG SLEEP", Keys::None),
];
const SUBS_FUNCTION: &[Sub] = &[
    sub("FUNCTION DELETE", Keys::None),
    sub("FUNCTION DUMP", Keys::None),
    sub("FUNCTION FLUSH", Keys::None),
    sub("FUNCTION HELP", Keys::None),
    sub("FUNCTION KILL", Keys::None),
    sub("FUNCTION LIST", Keys::None),
    sub("FUNCTION LOAD", Keys::None),
    sub("FUNCTION RESTORE", Keys::None),
    sub("FUNCTION STATS", Keys::None),
];
const SUBS_LATENCY: &[Sub] = &[
    sub("LATENCY DOCTOR", Keys::None),
    sub("LATENCY GRAPH", Keys::None),
    sub("LATENCY HELP", Keys::None),
    sub("LATENCY HISTOGRAM", Keys::None),
    sub("LATENCY HISTORY", Keys::None),
    sub("LATENCY LATEST", Keys::None),
    sub("LATENCY RESET", Keys::None),
];
const SUBS_MEMORY: &[Sub] = &[
    sub("MEMORY DOCTOR", Keys::None),
    sub("MEMORY HELP", Keys::None),
    sub("MEMORY MALLOC-STATS", Keys::None),
    sub("MEMORY PURGE", Keys::None),
    sub("MEMORY STATS", Keys::None),
    sub("MEMORY USAGE", Keys::range(1, 1, 1)),
];
const SUBS_MODULE: &[Sub] = &[
    sub("MODULE HELP", Keys::None),
    sub("MODULE LIST", Keys::None),
    sub("MODULE LOAD", Keys::None),
    sub("MODULE LOADEX", Keys::None),
    sub("MODULE UNLOAD", Keys::None),
];
const SUBS_OBJECT: &[Sub] = &[
    sub("OBJECT ENCODING", Keys::range(1, 1, 1)),
    sub("OBJECT FREQ", Keys::range(1, 1, 1)),
    sub("OBJECT HELP", Keys::None),
    sub("OBJECT IDLETIME", Keys::range(1, 1, 1)),
    sub("OBJECT REFCOUNT", Keys::range(1, 1, 1)),
];
const SUBS_PUBSUB: &[Sub] = &[
    sub("PUBSUB CHANNELS", Keys::None),
    sub("PUBSUB HELP", Keys::None),
    sub("PUBSUB NUMPAT", Keys::None),
    sub("PUBSUB NUMSUB", Keys::None),
    sub("PUBSUB SHARDCHANNELS", Keys::None),
    sub("PUBSUB SHARDNUMSUB", Keys::None),
];
const SUBS_SCRIPT: &[Sub] = &[
    sub("SCRIPT EXISTS", Keys::None),
    sub("SCRIPT FLUSH", Keys::None),
    sub("SCRIPT HELP", Keys::None),
    sub("SCRIPT KILL", Keys::None),
    sub("SCRIPT LOAD", Keys::None),
];
const SUBS_SENTINEL: &[Sub] = &[
    sub("SENTINEL CKQUORUM", Keys::None),
    sub("SENTINEL CONFIG", Keys::Secret),
    sub("SENTINEL FAILOVER", Keys::None),
    sub("SENTINEL FLUSHCONFIG", Keys::None),
    sub("SENTINEL GET-MASTER-ADDR-BY-NAME", Keys::None),
    sub("SENTINEL HELP", Keys::None),
    sub("SENTINEL INFO-CACHE", Keys::None),
    sub("SENTINEL MASTER", Keys::None),
    sub("SENTINEL MASTERS", Keys::None),
    sub("SENTINEL MONITOR", Keys::None),
    sub("SENTINEL MYID", Keys::None),
    sub("SENTINEL REMOVE", Keys::None),
    sub("SENTINEL REPLICAS", Keys::None),
    sub("SENTINEL RESET", Keys::None),
    sub("SENTINEL SENTINELS", Keys::None),
    sub("SENTINEL SET", Keys::Secret),
];
const SUBS_SLOWLOG: &[Sub] = &[
    sub("SLOWLOG GET", Keys::None),
    sub("SLOWLOG HELP", Keys::None),
    sub("SLOWLOG LEN", Keys::None),
    sub("SLOWLOG RESET", Keys::None),
];
const SUBS_XGROUP: &[Sub] = &[
    sub("XGROUP CREATE", Keys::range(1, 1, 1)),
    sub("XGROUP CREATECONSUMER", Keys::range(1, 1, 1)),
    sub("XGROUP DELCONSUMER", Keys::range(1, 1, 1)),
    sub("XGROUP DESTROY", Keys::range(1, 1, 1)),
    sub("XGROUP HELP", Keys::None),
    sub("XGROUP SETID", Keys::range(1, 1, 1)),
];
const SUBS_XINFO: &[Sub] = &[
    sub("XINFO CONSUMERS", Keys::range(1, 1, 1)),
    sub("XINFO GROUPS", Keys::range(1, 1, 1)),
    sub("XINFO HELP", Keys::None),
    sub("XINFO STREAM", Keys::range(1, 1, 1)),
];

/// Every command with a known key layout, sorted by name (349 entries): the Redis commands,
/// and those of the common modules (RedisJSON `JSON.*`, RediSearch `FT.*`, RedisTimeSeries
/// `TS.*`, RedisBloom `BF.*` / `CF.*` / `CMS.*` / `TOPK.*`). A command not listed is recorded
/// as `_OTHER`.
pub(crate) const COMMANDS: &[Spec] = &[
    spec("ACL", Keys::Container(SUBS_ACL)),
    spec("APPEND", Keys::range(1, 1, 1)),
    spec("AUTH", Keys::Secret),
    spec("BF.ADD", Keys::range(1, 1, 1)),
    spec("BF.CARD", Keys::range(1, 1, 1)),
    spec("BF.EXISTS", Keys::range(1, 1, 1)),
    spec("BF.INFO", Keys::range(1, 1, 1)),
    spec("BF.INSERT", Keys::range(1, 1, 1)),
    spec("BF.LOADCHUNK", Keys::range(1, 1, 1)),
    spec("BF.MADD", Keys::range(1, 1, 1)),
    spec("BF.MEXISTS", Keys::range(1, 1, 1)),
    spec("BF.RESERVE", Keys::range(1, 1, 1)),
    spec("BF.SCANDUMP", Keys::range(1, 1, 1)),
    spec("BGREWRITEAOF", Keys::None),
    spec("BGSAVE", Keys::None),
    spec("BITCOUNT", Keys::range(1, 1, 1)),
    spec("BITFIELD", Keys::range(1, 1, 1)),
    spec("BITFIELD_RO", Keys::range(1, 1, 1)),
    spec("BITOP", Keys::range(2, -1, 1)),
    spec("BITPOS", Keys::range(1, 1, 1)),
    spec("BLMOVE", Keys::range(1, 2, 1)),
    spec("BLMPOP", Keys::counted(2, false)),
    spec("BLPOP", Keys::range(1, -2, 1)),
    spec("BRPOP", Keys::range(1, -2, 1)),
    spec("BRPOPLPUSH", Keys::range(1, 2, 1)),
    spec("BZMPOP", Keys::counted(2, false)),
    spec("BZPOPMAX", Keys::range(1, -2, 1)),
    spec("BZPOPMIN", Keys::range(1, -2, 1)),
    spec("CF.ADD", Keys::range(1, 1, 1)),
    spec("CF.ADDNX", Keys::range(1, 1, 1)),
    spec("CF.COUNT", Keys::range(1, 1, 1)),
    spec("CF.DEL", Keys::range(1, 1, 1)),
    spec("CF.EXISTS", Keys::range(1, 1, 1)),
    spec("CF.INFO", Keys::range(1, 1, 1)),
    spec("CF.INSERT", Keys::range(1, 1, 1)),
    spec("CF.INSERTNX", Keys::range(1, 1, 1)),
    spec("CF.LOADCHUNK", Keys::range(1, 1, 1)),
    spec("CF.MEXISTS", Keys::range(1, 1, 1)),
    spec("CF.RESERVE", Keys::range(1, 1, 1)),
    spec("CF.SCANDUMP", Keys::range(1, 1, 1)),
    spec("CLIENT", Keys::Container(SUBS_CLIENT)),
    spec("CLUSTER", Keys::Container(SUBS_CLUSTER)),
    spec("CMS.INCRBY", Keys::range(1, 1, 1)),
    spec("CMS.INFO", Keys::range(1, 1, 1)),
    spec("CMS.INITBYDIM", Keys::range(1, 1, 1)),
    spec("CMS.INITBYPROB", Keys::range(1, 1, 1)),
    spec("CMS.MERGE", Keys::counted(2, true)),
    spec("CMS.QUERY", Keys::range(1, 1, 1)),
    spec("COMMAND", Keys::Container(SUBS_COMMAND)),
    spec("CONFIG", Keys::Container(SUBS_CONFIG)),
    spec("COPY", Keys::range(1, 2, 1)),
    spec("DBSIZE", Keys::None),
    spec("DEBUG", Keys::Container(SUBS_DEBUG)),
    spec("DECR", Keys::range(1, 1, 1)),
    spec("DECRBY", Keys::range(1, 1, 1)),
    spec("DEL", Keys::range(1, -1, 1)),
    spec("DISCARD", Keys::None),
    spec("DUMP", Keys::range(1, 1, 1)),
    spec("ECHO", Keys::None),
    spec("EVAL", Keys::counted(2, false)),
    spec("EVALSHA", Keys::counted(2, false)),
    spec("EVALSHA_RO", Keys::counted(2, false)),
    spec("EVAL_RO", Keys::counted(2, false)),
    spec("EXEC", Keys::None),
    spec("EXISTS", Keys::range(1, -1, 1)),
    spec("EXPIRE", Keys::range(1, 1, 1)),
    spec("EXPIREAT", Keys::range(1, 1, 1)),
    spec("EXPIRETIME", Keys::range(1, 1, 1)),
    spec("FAILOVER", Keys::None),
    spec("FCALL", Keys::counted(2, false)),
    spec("FCALL_RO", Keys::counted(2, false)),
    spec("FLUSHALL", Keys::None),
    spec("FLUSHDB", Keys::None),
    spec("FT.AGGREGATE", Keys::None),
    spec("FT.ALIASADD", Keys::None),
    spec("FT.ALIASDEL", Keys::None),
    spec("FT.ALIASUPDATE", Keys::None),
    spec("FT.ALTER", Keys::None),
    spec("FT.CREATE", Keys::None),
    spec("FT.DICTADD", Keys::None),
    spec("FT.DICTDEL", Keys::None),
    spec("FT.DICTDUMP", Keys::None),
    spec("FT.DROPINDEX", Keys::None),
    spec("FT.EXPLAIN", Keys::None),
    spec("FT.EXPLAINCLI", Keys::None),
    spec("FT.INFO", Keys::None),
    spec("FT.PROFILE", Keys::None),
    spec("FT.SEARCH", Keys::None),
    spec("FT.SPELLCHECK", Keys::None),
    spec("FT.SUGADD", Keys::range(1, 1, 1)),
    spec("FT.SUGDEL", Keys::range(1, 1, 1)),
    spec("FT.SUGGET", Keys::range(1, 1, 1)),
    spec("FT.SUGLEN", Keys::range(1, 1, 1)),
    spec("FT.SYNDUMP", Keys::None),
    spec("FT.SYNUPDATE", Keys::None),
    spec("FT.TAGVALS", Keys::None),
    spec("FT._LIST", Keys::None),
    spec("FUNCTION", Keys::Container(SUBS_FUNCTION)),
    spec("GEOADD", Keys::range(1, 1, 1)),
    spec("GEODIST", Keys::range(1, 1, 1)),
    spec("GEOHASH", Keys::range(1, 1, 1)),
    spec("GEOPOS", Keys::range(1, 1, 1)),
    spec("GEORADIUS", Keys::range(1, 1, 1)),
    spec("GEORADIUSBYMEMBER", Keys::range(1, 1, 1)),
    spec("GEORADIUSBYMEMBER_RO", Keys::range(1, 1, 1)),
    spec("GEORADIUS_RO", Keys::range(1, 1, 1)),
    spec("GEOSEARCH", Keys::range(1, 1, 1)),
    spec("GEOSEARCHSTORE", Keys::range(1, 2, 1)),
    spec("GET", Keys::range(1, 1, 1)),
    spec("GETBIT", Keys::range(1, 1, 1)),
    spec("GETDEL", Keys::range(1, 1, 1)),
    spec("GETEX", Keys::range(1, 1, 1)),
    spec("GETRANGE", Keys::range(1, 1, 1)),
    spec("GETSET", Keys::range(1, 1, 1)),
    spec("HDEL", Keys::range(1, 1, 1)),
    spec("HELLO", Keys::Hello),
    spec("HEXISTS", Keys::range(1, 1, 1)),
    spec("HEXPIRE", Keys::range(1, 1, 1)),
    spec("HEXPIREAT", Keys::range(1, 1, 1)),
    spec("HEXPIRETIME", Keys::range(1, 1, 1)),
    spec("HGET", Keys::range(1, 1, 1)),
    spec("HGETALL", Keys::range(1, 1, 1)),
    spec("HGETDEL", Keys::range(1, 1, 1)),
    spec("HGETEX", Keys::range(1, 1, 1)),
    spec("HINCRBY", Keys::range(1, 1, 1)),
    spec("HINCRBYFLOAT", Keys::range(1, 1, 1)),
    spec("HKEYS", Keys::range(1, 1, 1)),
    spec("HLEN", Keys::range(1, 1, 1)),
    spec("HMGET", Keys::range(1, 1, 1)),
    spec("HMSET", Keys::range(1, 1, 1)),
    spec("HPERSIST", Keys::range(1, 1, 1)),
    spec("HPEXPIRE", Keys::range(1, 1, 1)),
    spec("HPEXPIREAT", Keys::range(1, 1, 1)),
    spec("HPEXPIRETIME", Keys::range(1, 1, 1)),
    spec("HPTTL", Keys::range(1, 1, 1)),
    spec("HRANDFIELD", Keys::range(1, 1, 1)),
    spec("HSCAN", Keys::range(1, 1, 1)),
    spec("HSET", Keys::range(1, 1, 1)),
    spec("HSETEX", Keys::range(1, 1, 1)),
    spec("HSETNX", Keys::range(1, 1, 1)),
    spec("HSTRLEN", Keys::range(1, 1, 1)),
    spec("HTTL", Keys::range(1, 1, 1)),
    spec("HVALS", Keys::range(1, 1, 1)),
    spec("INCR", Keys::range(1, 1, 1)),
    spec("INCRBY", Keys::range(1, 1, 1)),
    spec("INCRBYFLOAT", Keys::range(1, 1, 1)),
    spec("INFO", Keys::None),
    spec("JSON.ARRAPPEND", Keys::range(1, 1, 1)),
    spec("JSON.ARRINDEX", Keys::range(1, 1, 1)),
    spec("JSON.ARRINSERT", Keys::range(1, 1, 1)),
    spec("JSON.ARRLEN", Keys::range(1, 1, 1)),
    spec("JSON.ARRPOP", Keys::range(1, 1, 1)),
    spec("JSON.ARRTRIM", Keys::range(1, 1, 1)),
    spec("JSON.CLEAR", Keys::range(1, 1, 1)),
    spec("JSON.DEBUG", Keys::range(1, 1, 1)),
    spec("JSON.DEL", Keys::range(1, 1, 1)),
    spec("JSON.FORGET", Keys::range(1, 1, 1)),
    spec("JSON.GET", Keys::range(1, 1, 1)),
    spec("JSON.MERGE", Keys::range(1, 1, 1)),
    spec("JSON.MGET", Keys::range(1, -2, 1)),
    spec("JSON.MSET", Keys::range(1, -1, 3)),
    spec("JSON.NUMINCRBY", Keys::range(1, 1, 1)),
    spec("JSON.NUMMULTBY", Keys::range(1, 1, 1)),
    spec("JSON.OBJKEYS", Keys::range(1, 1, 1)),
    spec("JSON.OBJLEN", Keys::range(1, 1, 1)),
    spec("JSON.RESP", Keys::range(1, 1, 1)),
    spec("JSON.SET", Keys::range(1, 1, 1)),
    spec("JSON.STRAPPEND", Keys::range(1, 1, 1)),
    spec("JSON.STRLEN", Keys::range(1, 1, 1)),
    spec("JSON.TOGGLE", Keys::range(1, 1, 1)),
    spec("JSON.TYPE", Keys::range(1, 1, 1)),
    spec("KEYS", Keys::None),
    spec("LASTSAVE", Keys::None),
    spec("LATENCY", Keys::Container(SUBS_LATENCY)),
    spec("LCS", Keys::range(1, 2, 1)),
    spec("LINDEX", Keys::range(1, 1, 1)),
    spec("LINSERT", Keys::range(1, 1, 1)),
    spec("LLEN", Keys::range(1, 1, 1)),
    spec("LMOVE", Keys::range(1, 2, 1)),
    spec("LMPOP", Keys::counted(1, false)),
    spec("LOLWUT", Keys::None),
    spec("LPOP", Keys::range(1, 1, 1)),
    spec("LPOS", Keys::range(1, 1, 1)),
    spec("LPUSH", Keys::range(1, 1, 1)),
    spec("LPUSHX", Keys::range(1, 1, 1)),
    spec("LRANGE", Keys::range(1, 1, 1)),
    spec("LREM", Keys::range(1, 1, 1)),
    spec("LSET", Keys::range(1, 1, 1)),
    spec("LTRIM", Keys::range(1, 1, 1)),
    spec("MEMORY", Keys::Container(SUBS_MEMORY)),
    spec("MGET", Keys::range(1, -1, 1)),
    spec("MIGRATE", Keys::Migrate),
    spec("MODULE", Keys::Container(SUBS_MODULE)),
    spec("MONITOR", Keys::None),
    spec("MOVE", Keys::range(1, 1, 1)),
    spec("MSET", Keys::range(1, -1, 2)),
    spec("MSETNX", Keys::range(1, -1, 2)),
    spec("MULTI", Keys::None),
    spec("OBJECT", Keys::Container(SUBS_OBJECT)),
    spec("PERSIST", Keys::range(1, 1, 1)),
    spec("PEXPIRE", Keys::range(1, 1, 1)),
    spec("PEXPIREAT", Keys::range(1, 1, 1)),
    spec("PEXPIRETIME", Keys::range(1, 1, 1)),
    spec("PFADD", Keys::range(1, 1, 1)),
    spec("PFCOUNT", Keys::range(1, -1, 1)),
    spec("PFMERGE", Keys::range(1, -1, 1)),
    spec("PING", Keys::None),
    spec("PSETEX", Keys::range(1, 1, 1)),
    spec("PSUBSCRIBE", Keys::range(1, -1, 1)),
    spec("PSYNC", Keys::None),
    spec("PTTL", Keys::range(1, 1, 1)),
    spec("PUBLISH", Keys::range(1, 1, 1)),
    spec("PUBSUB", Keys::Container(SUBS_PUBSUB)),
    spec("PUNSUBSCRIBE", Keys::range(1, -1, 1)),
    spec("QUIT", Keys::None),
    spec("RANDOMKEY", Keys::None),
    spec("READONLY", Keys::None),
    spec("READWRITE", Keys::None),
    spec("RENAME", Keys::range(1, 2, 1)),
    spec("RENAMENX", Keys::range(1, 2, 1)),
    spec("REPLICAOF", Keys::None),
    spec("RESET", Keys::None),
    spec("RESTORE", Keys::range(1, 1, 1)),
    spec("ROLE", Keys::None),
    spec("RPOP", Keys::range(1, 1, 1)),
    spec("RPOPLPUSH", Keys::range(1, 2, 1)),
    spec("RPUSH", Keys::range(1, 1, 1)),
    spec("RPUSHX", Keys::range(1, 1, 1)),
    spec("SADD", Keys::range(1, 1, 1)),
    spec("SAVE", Keys::None),
    spec("SCAN", Keys::None),
    spec("SCARD", Keys::range(1, 1, 1)),
    spec("SCRIPT", Keys::Container(SUBS_SCRIPT)),
    spec("SDIFF", Keys::range(1, -1, 1)),
    spec("SDIFFSTORE", Keys::range(1, -1, 1)),
    spec("SELECT", Keys::None),
    spec("SENTINEL", Keys::Container(SUBS_SENTINEL)),
    spec("SET", Keys::range(1, 1, 1)),
    spec("SETBIT", Keys::range(1, 1, 1)),
    spec("SETEX", Keys::range(1, 1, 1)),
    spec("SETNX", Keys::range(1, 1, 1)),
    spec("SETRANGE", Keys::range(1, 1, 1)),
    spec("SHUTDOWN", Keys::None),
    spec("SINTER", Keys::range(1, -1, 1)),
    spec("SINTERCARD", Keys::counted(1, false)),
    spec("SINTERSTORE", Keys::range(1, -1, 1)),
    spec("SISMEMBER", Keys::range(1, 1, 1)),
    spec("SLAVEOF", Keys::None),
    spec("SLOWLOG", Keys::Container(SUBS_SLOWLOG)),
    spec("SMEMBERS", Keys::range(1, 1, 1)),
    spec("SMISMEMBER", Keys::range(1, 1, 1)),
    spec("SMOVE", Keys::range(1, 2, 1)),
    spec("SORT", Keys::range(1, 1, 1)),
    spec("SORT_RO", Keys::range(1, 1, 1)),
    spec("SPOP", Keys::range(1, 1, 1)),
    spec("SPUBLISH", Keys::range(1, 1, 1)),
    spec("SRANDMEMBER", Keys::range(1, 1, 1)),
    spec("SREM", Keys::range(1, 1, 1)),
    spec("SSCAN", Keys::range(1, 1, 1)),
    spec("SSUBSCRIBE", Keys::range(1, -1, 1)),
    spec("STRLEN", Keys::range(1, 1, 1)),
    spec("SUBSCRIBE", Keys::range(1, -1, 1)),
    spec("SUBSTR", Keys::range(1, 1, 1)),
    spec("SUNION", Keys::range(1, -1, 1)),
    spec("SUNIONSTORE", Keys::range(1, -1, 1)),
    spec("SUNSUBSCRIBE", Keys::range(1, -1, 1)),
    spec("SWAPDB", Keys::None),
    spec("SYNC", Keys::None),
    spec("TIME", Keys::None),
    spec("TOPK.ADD", Keys::range(1, 1, 1)),
    spec("TOPK.COUNT", Keys::range(1, 1, 1)),
    spec("TOPK.INCRBY", Keys::range(1, 1, 1)),
    spec("TOPK.INFO", Keys::range(1, 1, 1)),
    spec("TOPK.LIST", Keys::range(1, 1, 1)),
    spec("TOPK.QUERY", Keys::range(1, 1, 1)),
    spec("TOPK.RESERVE", Keys::range(1, 1, 1)),
    spec("TOUCH", Keys::range(1, -1, 1)),
    spec("TS.ADD", Keys::range(1, 1, 1)),
    spec("TS.ALTER", Keys::range(1, 1, 1)),
    spec("TS.CREATE", Keys::range(1, 1, 1)),
    spec("TS.CREATERULE", Keys::range(1, 2, 1)),
    spec("TS.DECRBY", Keys::range(1, 1, 1)),
    spec("TS.DEL", Keys::range(1, 1, 1)),
    spec("TS.DELETERULE", Keys::range(1, 2, 1)),
    spec("TS.GET", Keys::range(1, 1, 1)),
    spec("TS.INCRBY", Keys::range(1, 1, 1)),
    spec("TS.INFO", Keys::range(1, 1, 1)),
    spec("TS.MADD", Keys::range(1, -1, 3)),
    spec("TS.MGET", Keys::None),
    spec("TS.MRANGE", Keys::None),
    spec("TS.MREVRANGE", Keys::None),
    spec("TS.QUERYINDEX", Keys::None),
    spec("TS.RANGE", Keys::range(1, 1, 1)),
    spec("TS.REVRANGE", Keys::range(1, 1, 1)),
    spec("TTL", Keys::range(1, 1, 1)),
    spec("TYPE", Keys::range(1, 1, 1)),
    spec("UNLINK", Keys::range(1, -1, 1)),
    spec("UNSUBSCRIBE", Keys::range(1, -1, 1)),
    spec("UNWATCH", Keys::None),
    spec("WAIT", Keys::None),
    spec("WAITAOF", Keys::None),
    spec("WATCH", Keys::range(1, -1, 1)),
    spec("XACK", Keys::range(1, 1, 1)),
    spec("XADD", Keys::range(1, 1, 1)),
    spec("XAUTOCLAIM", Keys::range(1, 1, 1)),
    spec("XCLAIM", Keys::range(1, 1, 1)),
    spec("XDEL", Keys::range(1, 1, 1)),
    spec("XGROUP", Keys::Container(SUBS_XGROUP)),
    spec("XINFO", Keys::Container(SUBS_XINFO)),
    spec("XLEN", Keys::range(1, 1, 1)),
    spec("XPENDING", Keys::range(1, 1, 1)),
    spec("XRANGE", Keys::range(1, 1, 1)),
    spec("XREAD", Keys::Streams),
    spec("XREADGROUP", Keys::Streams),
    spec("XREVRANGE", Keys::range(1, 1, 1)),
    spec("XSETID", Keys::range(1, 1, 1)),
    spec("XTRIM", Keys::range(1, 1, 1)),
    spec("ZADD", Keys::range(1, 1, 1)),
    spec("ZCARD", Keys::range(1, 1, 1)),
    spec("ZCOUNT", Keys::range(1, 1, 1)),
    spec("ZDIFF", Keys::counted(1, false)),
    spec("ZDIFFSTORE", Keys::counted(2, true)),
    spec("ZINCRBY", Keys::range(1, 1, 1)),
    spec("ZINTER", Keys::counted(1, false)),
    spec("ZINTERCARD", Keys::counted(1, false)),
    spec("ZINTERSTORE", Keys::counted(2, true)),
    spec("ZLEXCOUNT", Keys::range(1, 1, 1)),
    spec("ZMPOP", Keys::counted(1, false)),
    spec("ZMSCORE", Keys::range(1, 1, 1)),
    spec("ZPOPMAX", Keys::range(1, 1, 1)),
    spec("ZPOPMIN", Keys::range(1, 1, 1)),
    spec("ZRANDMEMBER", Keys::range(1, 1, 1)),
    spec("ZRANGE", Keys::range(1, 1, 1)),
    spec("ZRANGEBYLEX", Keys::range(1, 1, 1)),
    spec("ZRANGEBYSCORE", Keys::range(1, 1, 1)),
    spec("ZRANGESTORE", Keys::range(1, 2, 1)),
    spec("ZRANK", Keys::range(1, 1, 1)),
    spec("ZREM", Keys::range(1, 1, 1)),
    spec("ZREMRANGEBYLEX", Keys::range(1, 1, 1)),
    spec("ZREMRANGEBYRANK", Keys::range(1, 1, 1)),
    spec("ZREMRANGEBYSCORE", Keys::range(1, 1, 1)),
    spec("ZREVRANGE", Keys::range(1, 1, 1)),
    spec("ZREVRANGEBYLEX", Keys::range(1, 1, 1)),
    spec("ZREVRANGEBYSCORE", Keys::range(1, 1, 1)),
    spec("ZREVRANK", Keys::range(1, 1, 1)),
    spec("ZSCAN", Keys::range(1, 1, 1)),
    spec("ZSCORE", Keys::range(1, 1, 1)),
    spec("ZUNION", Keys::counted(1, false)),
    spec("ZUNIONSTORE", Keys::counted(2, true)),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_upper_case() {
        for pair in COMMANDS.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} !< {}",
                pair[0].name,
                pair[1].name
            );
        }
        for spec in COMMANDS {
            assert_eq!(spec.name, spec.name.to_ascii_uppercase());
            assert!(
                spec.name.as_bytes()[0].is_ascii_uppercase(),
                "{}",
                spec.name
            );
            if let Keys::Container(subs) = spec.keys {
                for sub in subs {
                    assert!(sub.name.starts_with(spec.name), "{}", sub.name);
                    assert_eq!(sub.name, sub.name.to_ascii_uppercase());
                }
            }
        }
    }

    #[test]
    fn lookups_ignore_case() {
        assert_eq!(lookup(b"get").map(|s| s.name), Some("GET"));
        assert_eq!(lookup(b"GeT").map(|s| s.name), Some("GET"));
        assert_eq!(lookup(b"eval_ro").map(|s| s.name), Some("EVAL_RO"));
        assert_eq!(lookup(b"evalsha").map(|s| s.name), Some("EVALSHA"));
        assert!(lookup(b"GETX").is_none());
        assert!(lookup(b"").is_none());
        assert!(lookup(&[0xff, 0xfe]).is_none());
        assert!(lookup(b"1GET").is_none());
        assert!(lookup(b"_GET").is_none());
        assert!(lookup(b"ZZZZZ").is_none());
        assert!(lookup(&[b'S'; MAX_NAME_LEN + 1]).is_none());
        for spec in COMMANDS {
            assert_eq!(
                lookup(spec.name.to_ascii_lowercase().as_bytes()).map(|s| s.name),
                Some(spec.name)
            );
        }
        let Some(Spec {
            keys: Keys::Container(subs),
            ..
        }) = lookup(b"config")
        else {
            panic!("CONFIG is a container");
        };
        assert_eq!(lookup_sub(subs, b"set").map(|s| s.name), Some("CONFIG SET"));
        assert_eq!(lookup_sub(subs, b"set").map(|s| s.keys), Some(Keys::Secret));
        assert!(lookup_sub(subs, b"sett").is_none());
    }
}
