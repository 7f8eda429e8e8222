package io.idemlog.client;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The producer's configuration: immutable, validated once when it is built.
 *
 * <p>Property names are Kafka's where the meaning is the same, so an existing producer's properties carry over
 * (minus serializers: this producer takes {@code byte[]} keys and values). Every option, its default and its
 * meaning is listed in {@link #OPTIONS} and in docs/CLIENT.md.
 *
 * <pre>{@code
 * ProducerConfig config = ProducerConfig.builder()
 *     .bootstrapServers("127.0.0.1:9092")
 *     .lingerMs(5)
 *     .build();
 * ProducerConfig same = ProducerConfig.fromProperties(props);   // same names as kafka-clients
 * }</pre>
 *
 * <p>Rejected at build time, with a message that names the property: unknown property names, values of the wrong
 * type or out of range, {@code enable.idempotence=true} with {@code acks} other than {@code all},
 * {@code max.in.flight.requests.per.connection > 5} with idempotence, and
 * {@code delivery.timeout.ms < linger.ms + request.timeout.ms}.
 */
public final class ProducerConfig {
    public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
    public static final String CLIENT_ID = "client.id";
    public static final String ACKS = "acks";
    public static final String LINGER_MS = "linger.ms";
    public static final String BATCH_SIZE = "batch.size";
    public static final String BUFFER_MEMORY = "buffer.memory";
    public static final String MAX_BLOCK_MS = "max.block.ms";
    public static final String DELIVERY_TIMEOUT_MS = "delivery.timeout.ms";
    public static final String REQUEST_TIMEOUT_MS = "request.timeout.ms";
    public static final String RETRY_BACKOFF_MS = "retry.backoff.ms";
    public static final String MAX_IN_FLIGHT = "max.in.flight.requests.per.connection";
    public static final String ENABLE_IDEMPOTENCE = "enable.idempotence";
    public static final String METADATA_MAX_AGE_MS = "metadata.max.age.ms";
    public static final String MAX_REQUEST_SIZE = "max.request.size";

    /** The most requests in flight per connection idempotence allows: the server remembers the last 5 batches. */
    public static final int MAX_IN_FLIGHT_FOR_IDEMPOTENCE = 5;

    /** Acknowledgement level of a Produce request. */
    public enum Acks {
        /** No answer; the record may be lost and offsets are unknown (-1). */
        NONE((short) 0),
        /** The leader appended the record. */
        LEADER((short) 1),
        /** The record is durable: fsync'd on one idemlog server, replicated to the ISR on Kafka. */
        ALL((short) -1);

        /** The value sent in the Produce request's {@code acks} field. */
        public final short wire;

        Acks(short wire) {
            this.wire = wire;
        }
    }

    /** One configuration option: name, type, default (null = required) and meaning. */
    public record Option(String name, Class<?> type, Object defaultValue, String doc) {
    }

    /** Every option, in the order docs/CLIENT.md lists them. */
    public static final List<Option> OPTIONS = List.of(
        new Option(BOOTSTRAP_SERVERS, String.class, null,
            "Comma-separated host:port list used to fetch the first metadata; the rest of the cluster is learnt "
                + "from it. Required."),
        new Option(CLIENT_ID, String.class, "",
            "Sent in every request header; appears in server logs. Default: idemlog-producer-N."),
        new Option(ACKS, String.class, "all",
            "all (or -1): answer once the record is durable; 1: once the leader appended it; 0: no answer. "
                + "Idempotence requires all."),
        new Option(LINGER_MS, Long.class, 5L,
            "How long a partition's open batch waits for more records before it is sent, in ms."),
        new Option(BATCH_SIZE, Integer.class, 65536,
            "Size in bytes of a batch buffer; a record larger than this gets a batch of its own. Chosen by "
                + "measurement (docs/CLIENT.md)."),
        new Option(BUFFER_MEMORY, Long.class, 32L * 1024 * 1024,
            "Total bytes of batch buffers. When it is used up, send() blocks up to max.block.ms, then fails."),
        new Option(MAX_BLOCK_MS, Long.class, 60_000L,
            "Longest time send() blocks, waiting for topic metadata and for buffer memory together, in ms."),
        new Option(DELIVERY_TIMEOUT_MS, Long.class, 120_000L,
            "Upper bound from send() to the result of a record (success or failure), retries included, in ms. "
                + "Must be at least linger.ms + request.timeout.ms."),
        new Option(REQUEST_TIMEOUT_MS, Long.class, 30_000L,
            "How long the producer waits for the answer to a request before it closes the connection and "
                + "retries, in ms. Also sent as the Produce request's timeout."),
        new Option(RETRY_BACKOFF_MS, Long.class, 100L,
            "Pause before a failed batch, metadata request or connection attempt is retried, in ms."),
        new Option(MAX_IN_FLIGHT, Integer.class, 5,
            "Most requests sent and not yet answered on one connection. At most 5 with idempotence."),
        new Option(ENABLE_IDEMPOTENCE, Boolean.class, true,
            "Stamp batches with producer id, epoch and sequence so that retries never duplicate or reorder "
                + "records. false gives plain at-least-once retries."),
        new Option(METADATA_MAX_AGE_MS, Long.class, 300_000L,
            "Metadata is refreshed at least this often, even without errors, in ms."),
        new Option(MAX_REQUEST_SIZE, Integer.class, 1024 * 1024,
            "Largest Produce request, in bytes; a larger record is rejected by send() at once."));

    private static final Map<String, Option> BY_NAME;
    private static final Map<String, String> KNOWN_KAFKA_ONLY = Map.of(
        "key.serializer", "this producer takes byte[] keys and values; serialize before send()",
        "value.serializer", "this producer takes byte[] keys and values; serialize before send()",
        "transactional.id", "transactions are not supported",
        "compression.type", "compression is not supported yet",
        "retries", "retries are bounded by delivery.timeout.ms only",
        "partitioner.class", "the partitioner is Kafka's default (murmur2 of the key) and is not pluggable");
    private static final AtomicInteger CLIENT_IDS = new AtomicInteger();

    static {
        Map<String, Option> m = new LinkedHashMap<>();
        for (Option o : OPTIONS) {
            m.put(o.name(), o);
        }
        BY_NAME = Collections.unmodifiableMap(m);
    }

    private final List<String> bootstrapServers;
    private final String clientId;
    private final Acks acks;
    private final long lingerMs;
    private final int batchSize;
    private final long bufferMemory;
    private final long maxBlockMs;
    private final long deliveryTimeoutMs;
    private final long requestTimeoutMs;
    private final long retryBackoffMs;
    private final int maxInFlight;
    private final boolean idempotence;
    private final long metadataMaxAgeMs;
    private final int maxRequestSize;

    private ProducerConfig(Map<String, Object> values) {
        bootstrapServers = parseServers((String) values.get(BOOTSTRAP_SERVERS));
        String id = (String) values.get(CLIENT_ID);
        clientId = id.isEmpty() ? "idemlog-producer-" + CLIENT_IDS.incrementAndGet() : id;
        acks = parseAcks((String) values.get(ACKS));
        lingerMs = (Long) values.get(LINGER_MS);
        batchSize = (Integer) values.get(BATCH_SIZE);
        bufferMemory = (Long) values.get(BUFFER_MEMORY);
        maxBlockMs = (Long) values.get(MAX_BLOCK_MS);
        deliveryTimeoutMs = (Long) values.get(DELIVERY_TIMEOUT_MS);
        requestTimeoutMs = (Long) values.get(REQUEST_TIMEOUT_MS);
        retryBackoffMs = (Long) values.get(RETRY_BACKOFF_MS);
        maxInFlight = (Integer) values.get(MAX_IN_FLIGHT);
        idempotence = (Boolean) values.get(ENABLE_IDEMPOTENCE);
        metadataMaxAgeMs = (Long) values.get(METADATA_MAX_AGE_MS);
        maxRequestSize = (Integer) values.get(MAX_REQUEST_SIZE);
        validate();
    }

    private void validate() {
        nonNegative(LINGER_MS, lingerMs);
        nonNegative(MAX_BLOCK_MS, maxBlockMs);
        nonNegative(RETRY_BACKOFF_MS, retryBackoffMs);
        positive(REQUEST_TIMEOUT_MS, requestTimeoutMs);
        positive(DELIVERY_TIMEOUT_MS, deliveryTimeoutMs);
        positive(METADATA_MAX_AGE_MS, metadataMaxAgeMs);
        positive(MAX_IN_FLIGHT, maxInFlight);
        // A batch needs room for its 61-byte header and at least one small record.
        if (batchSize < 128) {
            throw new ConfigException(BATCH_SIZE + " must be at least 128 bytes, got " + batchSize);
        }
        if (maxRequestSize < 128) {
            throw new ConfigException(MAX_REQUEST_SIZE + " must be at least 128 bytes, got " + maxRequestSize);
        }
        if (bufferMemory < batchSize) {
            throw new ConfigException(BUFFER_MEMORY + " (" + bufferMemory + ") must be at least " + BATCH_SIZE
                + " (" + batchSize + ")");
        }
        if (requestTimeoutMs > Integer.MAX_VALUE) {
            throw new ConfigException(REQUEST_TIMEOUT_MS + " must fit in an int32 (it is sent as the Produce "
                + "timeout), got " + requestTimeoutMs);
        }
        if (idempotence && acks != Acks.ALL) {
            throw new ConfigException(ENABLE_IDEMPOTENCE + "=true requires " + ACKS + "=all, got " + ACKS + "="
                + acksName(acks) + " (set " + ENABLE_IDEMPOTENCE + "=false for weaker acks)");
        }
        if (idempotence && maxInFlight > MAX_IN_FLIGHT_FOR_IDEMPOTENCE) {
            throw new ConfigException(MAX_IN_FLIGHT + " must be at most " + MAX_IN_FLIGHT_FOR_IDEMPOTENCE
                + " with " + ENABLE_IDEMPOTENCE + "=true (the server remembers only the last 5 batches of a "
                + "producer), got " + maxInFlight);
        }
        if (deliveryTimeoutMs < lingerMs + requestTimeoutMs) {
            throw new ConfigException(DELIVERY_TIMEOUT_MS + " (" + deliveryTimeoutMs + ") must be at least "
                + LINGER_MS + " + " + REQUEST_TIMEOUT_MS + " (" + lingerMs + " + " + requestTimeoutMs + ")");
        }
    }

    private static void nonNegative(String name, long v) {
        if (v < 0) {
            throw new ConfigException(name + " must be >= 0, got " + v);
        }
    }

    private static void positive(String name, long v) {
        if (v <= 0) {
            throw new ConfigException(name + " must be > 0, got " + v);
        }
    }

    private static String acksName(Acks a) {
        return switch (a) {
            case NONE -> "0";
            case LEADER -> "1";
            case ALL -> "all";
        };
    }

    private static Acks parseAcks(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "all", "-1" -> Acks.ALL;
            case "1" -> Acks.LEADER;
            case "0" -> Acks.NONE;
            default -> throw new ConfigException(ACKS + " must be all, -1, 1 or 0, got '" + s + "'");
        };
    }

    private static List<String> parseServers(String s) {
        if (s == null || s.isBlank()) {
            throw new ConfigException(BOOTSTRAP_SERVERS + " is required (host:port[,host:port...])");
        }
        List<String> out = new ArrayList<>();
        for (String part : s.split(",")) {
            String hp = part.trim();
            if (hp.isEmpty()) {
                continue;
            }
            int colon = hp.lastIndexOf(':');
            if (colon <= 0 || colon == hp.length() - 1) {
                throw new ConfigException(BOOTSTRAP_SERVERS + ": '" + hp + "' is not host:port");
            }
            try {
                int port = Integer.parseInt(hp.substring(colon + 1));
                if (port < 1 || port > 65535) {
                    throw new NumberFormatException();
                }
            } catch (NumberFormatException e) {
                throw new ConfigException(BOOTSTRAP_SERVERS + ": bad port in '" + hp + "'");
            }
            out.add(hp);
        }
        if (out.isEmpty()) {
            throw new ConfigException(BOOTSTRAP_SERVERS + " is required (host:port[,host:port...])");
        }
        return List.copyOf(out);
    }

    /** A builder with every option at its default. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds from Kafka-style properties; every key must be a known option. */
    public static ProducerConfig fromProperties(Properties properties) {
        Builder b = builder();
        for (String name : properties.stringPropertyNames()) {
            b.set(name, properties.getProperty(name));
        }
        for (Map.Entry<Object, Object> e : properties.entrySet()) {
            if (!(e.getKey() instanceof String)) {
                throw new ConfigException("property names must be strings, got " + e.getKey());
            }
            if (!(e.getValue() instanceof String)) {
                b.set((String) e.getKey(), e.getValue());
            }
        }
        return b.build();
    }

    /** Builds from a map of option names to values (strings or values of the option's type). */
    public static ProducerConfig fromMap(Map<String, ?> map) {
        Builder b = builder();
        for (Map.Entry<String, ?> e : map.entrySet()) {
            b.set(e.getKey(), e.getValue());
        }
        return b.build();
    }

    public List<String> bootstrapServers() {
        return bootstrapServers;
    }

    public String clientId() {
        return clientId;
    }

    public Acks acks() {
        return acks;
    }

    public long lingerMs() {
        return lingerMs;
    }

    public int batchSize() {
        return batchSize;
    }

    public long bufferMemory() {
        return bufferMemory;
    }

    public long maxBlockMs() {
        return maxBlockMs;
    }

    public long deliveryTimeoutMs() {
        return deliveryTimeoutMs;
    }

    public long requestTimeoutMs() {
        return requestTimeoutMs;
    }

    public long retryBackoffMs() {
        return retryBackoffMs;
    }

    public int maxInFlightRequestsPerConnection() {
        return maxInFlight;
    }

    public boolean idempotence() {
        return idempotence;
    }

    public long metadataMaxAgeMs() {
        return metadataMaxAgeMs;
    }

    public int maxRequestSize() {
        return maxRequestSize;
    }

    @Override
    public String toString() {
        return "ProducerConfig(" + BOOTSTRAP_SERVERS + "=" + String.join(",", bootstrapServers) + ", " + CLIENT_ID
            + "=" + clientId + ", " + ACKS + "=" + acksName(acks) + ", " + LINGER_MS + "=" + lingerMs + ", "
            + BATCH_SIZE + "=" + batchSize + ", " + BUFFER_MEMORY + "=" + bufferMemory + ", " + MAX_BLOCK_MS + "="
            + maxBlockMs + ", " + DELIVERY_TIMEOUT_MS + "=" + deliveryTimeoutMs + ", " + REQUEST_TIMEOUT_MS + "="
            + requestTimeoutMs + ", " + RETRY_BACKOFF_MS + "=" + retryBackoffMs + ", " + MAX_IN_FLIGHT + "="
            + maxInFlight + ", " + ENABLE_IDEMPOTENCE + "=" + idempotence + ", " + METADATA_MAX_AGE_MS + "="
            + metadataMaxAgeMs + ", " + MAX_REQUEST_SIZE + "=" + maxRequestSize + ")";
    }

    /** Collects option values; {@link #build()} converts and validates them all at once. */
    public static final class Builder {
        private final Map<String, Object> values = new LinkedHashMap<>();

        private Builder() {
            for (Option o : OPTIONS) {
                if (o.defaultValue() != null) {
                    values.put(o.name(), o.defaultValue());
                }
            }
        }

        /**
         * Sets an option by its Kafka name. The value may be a string (as in a properties file) or a value of
         * the option's type. Unknown names are rejected here, with a hint for Kafka options this producer does
         * not have.
         */
        public Builder set(String name, Object value) {
            Objects.requireNonNull(name, "name");
            Option option = BY_NAME.get(name);
            if (option == null) {
                String hint = KNOWN_KAFKA_ONLY.get(name);
                throw new ConfigException("unknown property '" + name + "'"
                    + (hint != null ? ": " + hint : "; known properties: " + String.join(", ", BY_NAME.keySet())));
            }
            values.put(name, convert(option, value));
            return this;
        }

        public Builder bootstrapServers(String hostPorts) {
            return set(BOOTSTRAP_SERVERS, hostPorts);
        }

        public Builder clientId(String clientId) {
            return set(CLIENT_ID, clientId);
        }

        public Builder acks(Acks acks) {
            return set(ACKS, acksName(acks));
        }

        public Builder lingerMs(long ms) {
            return set(LINGER_MS, ms);
        }

        public Builder batchSize(int bytes) {
            return set(BATCH_SIZE, bytes);
        }

        public Builder bufferMemory(long bytes) {
            return set(BUFFER_MEMORY, bytes);
        }

        public Builder maxBlockMs(long ms) {
            return set(MAX_BLOCK_MS, ms);
        }

        public Builder deliveryTimeoutMs(long ms) {
            return set(DELIVERY_TIMEOUT_MS, ms);
        }

        public Builder requestTimeoutMs(long ms) {
            return set(REQUEST_TIMEOUT_MS, ms);
        }

        public Builder retryBackoffMs(long ms) {
            return set(RETRY_BACKOFF_MS, ms);
        }

        public Builder maxInFlightRequestsPerConnection(int n) {
            return set(MAX_IN_FLIGHT, n);
        }

        public Builder idempotence(boolean enabled) {
            return set(ENABLE_IDEMPOTENCE, enabled);
        }

        public Builder metadataMaxAgeMs(long ms) {
            return set(METADATA_MAX_AGE_MS, ms);
        }

        public Builder maxRequestSize(int bytes) {
            return set(MAX_REQUEST_SIZE, bytes);
        }

        /** Validates every option and the rules between them; throws {@link ConfigException} naming the option. */
        public ProducerConfig build() {
            return new ProducerConfig(values);
        }

        private static Object convert(Option option, Object value) {
            if (value == null) {
                throw new ConfigException(option.name() + " must not be null");
            }
            Class<?> type = option.type();
            try {
                if (type == String.class) {
                    return value.toString();
                }
                if (type == Boolean.class) {
                    if (value instanceof Boolean b) {
                        return b;
                    }
                    String s = value.toString().trim().toLowerCase(Locale.ROOT);
                    if (s.equals("true") || s.equals("false")) {
                        return Boolean.valueOf(s);
                    }
                    throw new ConfigException(option.name() + " must be true or false, got '" + value + "'");
                }
                long v = value instanceof Number n ? checkedLong(n) : Long.parseLong(value.toString().trim());
                if (type == Integer.class) {
                    if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                        throw new ConfigException(option.name() + " must fit in an int, got " + v);
                    }
                    return (int) v;
                }
                return v;
            } catch (NumberFormatException e) {
                throw new ConfigException(option.name() + " must be an integer, got '" + value + "'");
            }
        }

        private static long checkedLong(Number n) {
            if (n instanceof Double || n instanceof Float) {
                double d = n.doubleValue();
                if (d != Math.rint(d)) {
                    throw new NumberFormatException();
                }
            }
            return n.longValue();
        }
    }
}
