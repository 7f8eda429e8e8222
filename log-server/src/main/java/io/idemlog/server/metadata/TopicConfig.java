package io.idemlog.server.metadata;

import io.idemlog.server.log.LogConfig;

import java.util.Map;
import java.util.TreeMap;

/**
 * A topic's effective configuration: its own overrides (what CreateTopics/AlterConfigs set, stored durably) over
 * the broker defaults over Kafka's defaults. Immutable; a config change makes a new one.
 */
public final class TopicConfig {
    private final TopicConfigDef def;
    private final Map<String, String> overrides;
    private final TopicConfigDef.BrokerDefaults broker;

    public TopicConfig(TopicConfigDef def, Map<String, String> overrides, TopicConfigDef.BrokerDefaults broker) {
        this.def = def;
        this.overrides = Map.copyOf(overrides);
        this.broker = broker;
    }

    /** The topic-level overrides only (sorted). */
    public Map<String, String> overrides() {
        return new TreeMap<>(overrides);
    }

    /** The effective raw value of a key; null when the key is not defined. */
    public String value(String name) {
        String v = overrides.get(name);
        if (v != null) {
            return v;
        }
        TopicConfigDef.Key k = def.key(name);
        return k == null ? null : TopicConfigDef.brokerValue(k, broker);
    }

    /** The effective value of a numeric key (INT or LONG). */
    public long longValue(String name) {
        String v = value(name);
        if (v == null) {
            throw new IllegalArgumentException("no topic config " + name);
        }
        return Long.parseLong(v.trim());
    }

    /** Where the effective value of {@code name} comes from. */
    public TopicConfigDef.Source source(String name) {
        if (overrides.containsKey(name)) {
            return TopicConfigDef.Source.TOPIC;
        }
        TopicConfigDef.Key k = def.key(name);
        return k == null ? TopicConfigDef.Source.DEFAULT : TopicConfigDef.brokerSource(k, broker);
    }

    /** The broker-level value behind {@code name} (the synonym's), ignoring the topic's override. */
    public String brokerValue(String name) {
        TopicConfigDef.Key k = def.key(name);
        return k == null ? null : TopicConfigDef.brokerValue(k, broker);
    }

    public TopicConfigDef def() {
        return def;
    }

    public TopicConfigDef.BrokerDefaults brokerDefaults() {
        return broker;
    }

    /**
     * The partition storage settings with this topic's values: segment.bytes, segment.ms, retention.ms,
     * retention.bytes, max.message.bytes, message.timestamp.type and dedup.* replace the broker's; the rest (index interval, producer state, delete
     * delay, preallocation) stay broker-wide.
     */
    public LogConfig applyTo(LogConfig base) {
        return new LogConfig(longValue("segment.bytes"), longValue("segment.ms"), longValue("retention.ms"),
            longValue("retention.bytes"), base.retentionCheckIntervalMs(), base.indexIntervalBytes(),
            (int) longValue("max.message.bytes"), base.producerIdExpirationMs(),
            base.producerIdExpirationCheckIntervalMs(), base.maxProducersPerPartition(), base.fileDeleteDelayMs(),
            base.preallocate(), dedup(base.dedup()),
            "LogAppendTime".equals(value("message.timestamp.type").trim()));
    }

    /**
     * De-duplication keys: each dedup.* the topic sets replaces the broker's (log.dedup.*, which {@code base}
     * already holds as parsed and validated by the server configuration).
     */
    private io.idemlog.server.log.DedupConfig dedup(io.idemlog.server.log.DedupConfig base) {
        String header = overrides.get("dedup.header");
        String window = overrides.get("dedup.window.ms");
        String maxKeys = overrides.get("dedup.max.keys");
        return new io.idemlog.server.log.DedupConfig(header != null ? header.trim() : base.header(),
            window != null ? Long.parseLong(window.trim()) : base.windowMs(),
            maxKeys != null ? Integer.parseInt(maxKeys.trim()) : base.maxKeys());
    }

    @Override
    public String toString() {
        return overrides().toString();
    }
}
