package io.idemlog.server.metadata;

import io.idemlog.server.log.LogConfig;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The table of per-topic configuration keys (Kafka's names): type, the broker property behind each (its
 * "synonym", whose value is the default when a topic sets none), Kafka's own default, validation and meaning.
 *
 * <p>Extensible: another module adds its keys with {@link #define(Key)} on {@link #STANDARD} before the server
 * starts (for example in a static initialiser that {@link #STANDARD}'s class path reaches, or in the server's
 * start-up code), after which they are validated, stored durably, described by DescribeConfigs and altered by
 * (Incremental)AlterConfigs exactly like the built-in ones. See /work/notes/h10-admin-api.md and
 * docs/CONFIGURATION.md ("Topic configuration").
 *
 * <p>Thread-safe: the key map is copied on write, so lookups never lock.
 */
public final class TopicConfigDef {
    /** Value types, as Kafka names them in DescribeConfigs v3+ (config_type). */
    public enum Type {
        BOOLEAN(1), STRING(2), INT(3), LONG(5), LIST(7);

        /** Kafka's DescribeConfigs config_type code. */
        public final byte kafkaCode;

        Type(int code) {
            this.kafkaCode = (byte) code;
        }
    }

    /**
     * One key.
     *
     * @param name         Kafka's topic config name, e.g. {@code retention.ms}
     * @param type         value type
     * @param brokerSynonym the broker property whose value is the default (e.g. {@code log.retention.ms}), or null
     * @param kafkaDefault the default when the broker property has no value either (Kafka's default)
     * @param min          smallest allowed value (INT, LONG)
     * @param max          largest allowed value (INT, LONG)
     * @param check        extra check on the raw value: returns null when fine, else the problem (e.g. "compaction
     *                     is not supported"); may be null
     * @param doc          meaning, for the docs and DescribeConfigs' documentation field
     */
    public record Key(String name, Type type, String brokerSynonym, String kafkaDefault, long min, long max,
                      Function<String, String> check, String doc) {
        /** A key with no range and no extra check. */
        public static Key of(String name, Type type, String brokerSynonym, String kafkaDefault, String doc) {
            return new Key(name, type, brokerSynonym, kafkaDefault, Long.MIN_VALUE, Long.MAX_VALUE, null, doc);
        }

        /** A numeric key with a range. */
        public static Key ranged(String name, Type type, String brokerSynonym, String kafkaDefault, long min, long max,
                                 String doc) {
            return new Key(name, type, brokerSynonym, kafkaDefault, min, max, null, doc);
        }

        /** A key with an extra check. */
        public Key withCheck(Function<String, String> extra) {
            return new Key(name, type, brokerSynonym, kafkaDefault, min, max, extra, doc);
        }

        /** Null when {@code value} is acceptable for this key, else why not (the message names the key). */
        public String problem(String value) {
            if (value == null) {
                return name + ": a value is required";
            }
            switch (type) {
                case INT, LONG -> {
                    long v;
                    try {
                        v = Long.parseLong(value.trim());
                    } catch (NumberFormatException e) {
                        return name + "=" + value + ": not a number";
                    }
                    if (type == Type.INT && (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE)) {
                        return name + "=" + value + ": out of the int range";
                    }
                    if (v < min || v > max) {
                        return name + "=" + value + ": must be in [" + min + ", " + max + "]";
                    }
                }
                case BOOLEAN -> {
                    if (!value.trim().equalsIgnoreCase("true") && !value.trim().equalsIgnoreCase("false")) {
                        return name + "=" + value + ": must be true or false";
                    }
                }
                default -> {
                }
            }
            return check == null ? null : check.apply(value.trim());
        }
    }

    /** Where an effective value comes from; the codes are Kafka's DescribeConfigs config_source. */
    public enum Source {
        TOPIC(1), STATIC_BROKER(4), DEFAULT(5);

        public final byte kafkaCode;

        Source(int code) {
            this.kafkaCode = (byte) code;
        }
    }

    /**
     * The broker side of the defaults: for each broker property name (a key's synonym), its effective value and
     * whether the operator set it (STATIC_BROKER) or it is the built-in default (DEFAULT). Built by the server from
     * its configuration; a synonym missing here falls back to the key's Kafka default.
     */
    public record BrokerDefaults(Map<String, String> values, Set<String> explicitlySet) {
        public static final BrokerDefaults NONE = new BrokerDefaults(Map.of(), Set.of());

        public BrokerDefaults {
            values = Map.copyOf(values);
            explicitlySet = Set.copyOf(explicitlySet);
        }

        /**
         * The defaults behind the built-in keys, from the broker's storage settings (so a topic without overrides
         * behaves exactly as before topic configs existed), plus {@code others} (further synonyms' values, e.g. an
         * extension's broker properties).
         */
        public static BrokerDefaults of(LogConfig log, Map<String, String> others, Set<String> explicitlySet) {
            Map<String, String> v = new LinkedHashMap<>(others);
            v.put("log.retention.ms", Long.toString(log.retentionMs()));
            v.put("log.retention.bytes", Long.toString(log.retentionBytes()));
            v.put("log.segment.bytes", Long.toString(log.segmentBytes()));
            v.put("log.roll.ms", Long.toString(log.segmentMs()));
            v.put("message.max.bytes", Integer.toString(log.maxBatchBytes()));
            v.put("log.message.timestamp.type", log.logAppendTime() ? "LogAppendTime" : "CreateTime");
            return new BrokerDefaults(v, explicitlySet);
        }

        /**
         * From the server's configuration: every property's effective value, the derived log.retention.ms and
         * log.roll.ms (set by their hours/minutes forms too), and which the operator set.
         */
        public static BrokerDefaults of(io.idemlog.server.config.ServerConfig server) {
            Set<String> set = new java.util.TreeSet<>();
            for (String name : server.values().keySet()) {
                if (server.isExplicitlySet(name)) {
                    set.add(name);
                }
            }
            if (server.isExplicitlySet("log.retention.hours") || server.isExplicitlySet("log.retention.minutes")) {
                set.add("log.retention.ms");
            }
            if (server.isExplicitlySet("log.roll.hours")) {
                set.add("log.roll.ms");
            }
            return of(server.log, server.values(), set);
        }
    }

    /** The built-in Kafka keys; other modules add theirs here (see the class comment). */
    public static final TopicConfigDef STANDARD = standard();

    private volatile Map<String, Key> keys = Map.of();

    /** An empty table (tests); the server uses {@link #STANDARD}. */
    public TopicConfigDef() {
    }

    /**
     * Adds a key (or replaces one of the same name). Call before the server opens its storage: configs stored
     * with a key that is not defined refuse to load.
     */
    public synchronized TopicConfigDef define(Key key) {
        Map<String, Key> copy = new LinkedHashMap<>(keys);
        copy.put(key.name(), key);
        keys = Collections.unmodifiableMap(copy);
        return this;
    }

    /** The key, or null when no such topic config exists. */
    public Key key(String name) {
        return keys.get(name);
    }

    /** Every key, in definition order. */
    public Map<String, Key> keys() {
        return keys;
    }

    /**
     * Checks a set of topic-level overrides: every name known, every value valid. Returns the problems (empty when
     * all is well), each naming the key, so that the caller can answer INVALID_CONFIG with all of them.
     */
    public List<String> problems(Map<String, String> overrides) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, String> e : new TreeMap<>(overrides).entrySet()) {
            Key k = keys.get(e.getKey());
            if (k == null) {
                out.add("unknown topic config '" + e.getKey() + "'");
                continue;
            }
            String p = k.problem(e.getValue());
            if (p != null) {
                out.add(p);
            }
        }
        return out;
    }

    /** The effective value of {@code key} when the topic does not set it, and its source. */
    public static String brokerValue(Key key, BrokerDefaults broker) {
        String v = key.brokerSynonym() == null ? null : broker.values().get(key.brokerSynonym());
        return v != null ? v : key.kafkaDefault();
    }

    static Source brokerSource(Key key, BrokerDefaults broker) {
        return key.brokerSynonym() != null && broker.explicitlySet().contains(key.brokerSynonym())
            ? Source.STATIC_BROKER : Source.DEFAULT;
    }

    /** Markdown table of every key, for docs/CONFIGURATION.md ("Topic configuration"). */
    public String describeMarkdown() {
        StringBuilder sb = new StringBuilder("| topic config | type | broker default from | Kafka default | meaning |\n"
            + "|---|---|---|---|---|\n");
        for (Key k : keys.values()) {
            sb.append("| `").append(k.name()).append("` | ").append(k.type().name().toLowerCase()).append(" | ")
                .append(k.brokerSynonym() == null ? "—" : "`" + k.brokerSynonym() + "`").append(" | `")
                .append(k.kafkaDefault()).append("` | ").append(k.doc().replace("|", "\\|")).append(" |\n");
        }
        return sb.toString();
    }

    private static TopicConfigDef standard() {
        return new TopicConfigDef()
            .define(Key.ranged("retention.ms", Type.LONG, "log.retention.ms", "604800000", -1, Long.MAX_VALUE,
                "Delete whole segments whose newest record is older than this; -1 keeps them forever."))
            .define(Key.ranged("retention.bytes", Type.LONG, "log.retention.bytes", "-1", -1, Long.MAX_VALUE,
                "Delete the oldest segments while the partition is larger than this; -1 = no size limit."))
            .define(Key.ranged("segment.bytes", Type.INT, "log.segment.bytes", "1073741824", 1024,
                Integer.MAX_VALUE, "Roll the active segment once it reaches this size."))
            .define(Key.ranged("segment.ms", Type.LONG, "log.roll.ms", "604800000", 1, Long.MAX_VALUE,
                "Roll the active segment once its first batch is this old."))
            .define(Key.ranged("max.message.bytes", Type.INT, "message.max.bytes", "1048588", 64, Integer.MAX_VALUE,
                "Largest record batch accepted from a producer (bytes, batch header included)."))
            .define(Key.of("message.timestamp.type", Type.STRING, "log.message.timestamp.type", "CreateTime",
                "CreateTime: the producer's timestamps are stored as sent. LogAppendTime: each batch is stamped "
                    + "with the server's time as it is appended (its header's timestamp type and max timestamp, CRC "
                    + "recomputed), which consumers take as every record's timestamp, and the Produce answer "
                    + "carries it.").withCheck(v -> switch (v.trim()) {
                        case "CreateTime", "LogAppendTime" -> null;
                        default -> "message.timestamp.type=" + v + ": must be CreateTime or LogAppendTime";
                    }))
            .define(Key.ranged("min.insync.replicas", Type.INT, "min.insync.replicas", "1", 1, Integer.MAX_VALUE,
                "In cluster mode, acks=all is refused with NOT_ENOUGH_REPLICAS while fewer replicas than this are in "
                    + "sync (answered their leader within replica.lag.time.max.ms); every acks=all write is committed "
                    + "by a majority in any case. A single idemlog node is its own in-sync set, and acks=all waits for "
                    + "the fsync whatever this is."))
            .define(Key.of("cleanup.policy", Type.LIST, "log.cleanup.policy", "delete",
                "delete only: segments are removed by retention. compact is refused until compaction exists.")
                .withCheck(TopicConfigDef::checkCleanupPolicy))
            // de-duplication keys (issue 11, docs/DEDUP.md)
            .define(Key.of("dedup.header", Type.STRING, "log.dedup.header", "",
                "idemlog: the record header whose value is a record's de-duplication key; a record whose key was "
                    + "stored in the partition within dedup.window.ms is not stored again (its offset stays a "
                    + "hole). Empty = off."))
            .define(Key.ranged("dedup.window.ms", Type.LONG, "log.dedup.window.ms", "120000", 1, Long.MAX_VALUE,
                "idemlog: how long (server append time) a stored de-duplication key keeps later records with it "
                    + "out."))
            .define(Key.ranged("dedup.max.keys", Type.INT, "log.dedup.max.keys", "1000000", 1, 1 << 29,
                "idemlog: de-duplication keys kept per partition; beyond it the oldest is evicted (counted)."));
    }

    private static String checkCleanupPolicy(String v) {
        for (String item : v.split(",")) {
            String p = item.trim();
            if (p.equals("compact")) {
                return "cleanup.policy=" + v + ": compaction is not supported by idemlog (only 'delete')";
            }
            if (!p.equals("delete")) {
                return "cleanup.policy=" + v + ": must be delete (compact is not supported)";
            }
        }
        return null;
    }
}
