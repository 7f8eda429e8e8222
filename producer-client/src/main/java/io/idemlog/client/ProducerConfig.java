package io.idemlog.client;

import io.idemlog.common.record.Compression;
import io.idemlog.common.record.RecordsCompressor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
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
 * <p>Every kafka-clients 4.x producer property is accepted: those with a meaning here are honoured ({@link #OPTIONS});
 * the others ({@link #KAFKA_IGNORED}) are accepted, each with one warning at build time naming it and why it is
 * ignored, and listed by {@link #ignoredProperties()}. As in kafka-clients, when {@code enable.idempotence} is not set
 * explicitly, {@code acks} other than {@code all}, {@code retries=0} or more than 5 requests in flight turn
 * idempotence off (with a warning) instead of failing.
 *
 * <p>Rejected at build time, with a message that names the property: names that are neither ours nor Kafka's,
 * values of the wrong type or out of range, an explicit {@code enable.idempotence=true} with {@code acks} other than
 * {@code all}, {@code retries=0} or {@code max.in.flight.requests.per.connection > 5}, a {@code security.protocol}
 * other than PLAINTEXT (ignoring it would send in clear what was meant to be encrypted), and
 * {@code delivery.timeout.ms < linger.ms + request.timeout.ms}.
 */
public final class ProducerConfig {
    private static final Logger LOG = LoggerFactory.getLogger(ProducerConfig.class);
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
    public static final String RETRIES = "retries";
    public static final String RECONNECT_BACKOFF_MS = "reconnect.backoff.ms";
    public static final String RECONNECT_BACKOFF_MAX_MS = "reconnect.backoff.max.ms";
    public static final String STALL_TIMEOUT_MS = "stall.timeout.ms";
    public static final String ANSWER_PROBE_MS = "answer.probe.ms";
    public static final String SOCKET_CONNECTION_SETUP_TIMEOUT_MS = "socket.connection.setup.timeout.ms";
    public static final String SEND_BUFFER_BYTES = "send.buffer.bytes";
    public static final String RECEIVE_BUFFER_BYTES = "receive.buffer.bytes";
    /** idemlog only: a stable producer identity (docs/DEDUP.md "Stable producer identity"). */
    public static final String PRODUCER_NAME = "producer.name";
    public static final String COMPRESSION_TYPE = "compression.type";
    public static final String COMPRESSION_GZIP_LEVEL = "compression.gzip.level";
    public static final String COMPRESSION_LZ4_LEVEL = "compression.lz4.level";
    public static final String COMPRESSION_ZSTD_LEVEL = "compression.zstd.level";

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
            "Pause before a failed batch or metadata request is retried, in ms."),
        new Option(RETRIES, Integer.class, Integer.MAX_VALUE,
            "How many times a failed batch is sent again before it fails (ProduceFailedException naming retries); "
                + "delivery.timeout.ms bounds the retries too. Must be > 0 with enable.idempotence=true; 0 with "
                + "idempotence not set explicitly turns idempotence off, as in kafka-clients."),
        new Option(RECONNECT_BACKOFF_MS, Long.class, 50L,
            "Pause before reconnecting to a server whose connection was lost or could not be made, in ms; doubled "
                + "after each attempt that fails before the connection is ready, up to reconnect.backoff.max.ms."),
        new Option(RECONNECT_BACKOFF_MAX_MS, Long.class, 1000L,
            "Upper bound of the reconnect backoff, in ms (raised to reconnect.backoff.ms if lower, as in "
                + "kafka-clients)."),
        new Option(STALL_TIMEOUT_MS, Long.class, 0L,
            "idemlog only, idempotent producers: the least time the oldest request on a connection may wait for its "
                + "answer before the producer gives the connection up as stalled and re-sends what was in flight on "
                + "a new one (the server answers a re-sent batch it already has as a duplicate with its original "
                + "offset), in ms. The wait is counted from when the request reached the head of the connection's "
                + "in-flight queue (answers come in request order), and the bound acts only after 32 answers. The "
                + "real bound adapts to the answer latency seen (the largest of this floor, 2 x the smoothed latency "
                + "+ 4 x its deviation, and 1.5 x the recent maximum latency) and doubles after each stall (halved "
                + "again per 64 answers without one); request.timeout.ms stays the upper bound. 0 (the default): "
                + "off (wait request.timeout.ms); 50 is the setting measured in docs/BENCHMARKS.md (under 1 % "
                + "faults 0.925 of fault-free throughput with it, 0.622 without). Off by default because it "
                + "also gives up connections to a healthy server whose answers pause for 100-500 ms now and then "
                + "(about one a second at full speed on a loaded 2-core machine; docs/CLIENT.md)."),
        new Option(ANSWER_PROBE_MS, Long.class, 200L,
            "idemlog only: when requests are in flight on a connection and nothing was sent on it for this long, "
                + "in ms, the producer sends one small Metadata request (no topics) on it; answers come in request "
                + "order, so its answer proves every earlier unanswered request's answer lost, and those batches "
                + "are re-sent at once instead of after request.timeout.ms. At most one probe in flight per "
                + "connection. 0: off."),
        new Option(SOCKET_CONNECTION_SETUP_TIMEOUT_MS, Long.class, 10_000L,
            "How long setting a connection up (TCP connect, then the ApiVersions exchange) may take before it is "
                + "abandoned and retried after the reconnect backoff, in ms; request.timeout.ms bounds it too."),
        new Option(SEND_BUFFER_BYTES, Integer.class, -1,
            "The socket send buffer (SO_SNDBUF), in bytes; -1: the operating system's default (auto-tuned on "
                + "Linux; kafka-clients' default is 131072)."),
        new Option(RECEIVE_BUFFER_BYTES, Integer.class, -1,
            "The socket receive buffer (SO_RCVBUF), in bytes; -1: the operating system's default (kafka-clients' "
                + "default is 32768)."),
        new Option(MAX_IN_FLIGHT, Integer.class, 5,
            "Most requests sent and not yet answered on one connection. At most 5 with idempotence."),
        new Option(ENABLE_IDEMPOTENCE, Boolean.class, true,
            "Stamp batches with producer id, epoch and sequence so that retries never duplicate or reorder "
                + "records. false gives plain at-least-once retries."),
        new Option(METADATA_MAX_AGE_MS, Long.class, 300_000L,
            "Metadata is refreshed at least this often, even without errors, in ms."),
        new Option(MAX_REQUEST_SIZE, Integer.class, 1024 * 1024,
            "Largest Produce request, in bytes; a larger record is rejected by send() at once."),
        new Option(PRODUCER_NAME, String.class, "",
            "idemlog only: a stable identity. Every producer started with this name gets the same producer id and "
                + "an epoch above any an earlier instance used, so starting one fences (INVALID_PRODUCER_EPOCH) "
                + "the older instance of the same name, without transactions. Empty: a new producer id each time. "
                + "Needs an idemlog server and enable.idempotence=true: against a server that does not echo the name "
                + "(Apache Kafka) the producer fails at its first InitProducerId instead of running unfenced."),
        new Option(COMPRESSION_TYPE, String.class, "none",
            "none, gzip, snappy, lz4 or zstd: the codec of every batch, compressed when the batch is closed, as "
                + "kafka-clients writes it (any Kafka broker or consumer reads it). batch.size counts the "
                + "uncompressed records (kafka-clients counts its estimate of the compressed size). A batch that "
                + "does not shrink to fit its buffer is sent uncompressed."),
        new Option(COMPRESSION_GZIP_LEVEL, Integer.class, RecordsCompressor.GZIP_DEFAULT_LEVEL,
            "gzip level: 1-9, or -1 for zlib's default (6), as in kafka-clients."),
        new Option(COMPRESSION_LZ4_LEVEL, Integer.class, RecordsCompressor.LZ4_DEFAULT_LEVEL,
            "lz4 level: 1-17, default 9; as in kafka-clients, 9 uses the fast LZ4 compressor, any other level LZ4HC."),
        new Option(COMPRESSION_ZSTD_LEVEL, Integer.class, RecordsCompressor.ZSTD_DEFAULT_LEVEL,
            "zstd level: -131072 to 22, default 3, as in kafka-clients."));

    private static final Map<String, Option> BY_NAME;

    /**
     * The kafka-clients 4.x producer properties that have no meaning here, with the reason each is ignored (the
     * build's warning). Accepted with any value, except {@code security.protocol} (PLAINTEXT only).
     * ProducerConfigKafkaNamesTest holds this table plus {@link #OPTIONS} to kafka-clients' configNames().
     */
    public static final Map<String, String> KAFKA_IGNORED;

    static {
        Map<String, String> m = new TreeMap<>();
        String serde = "this producer takes byte[] keys and values; serialize before send()";
        m.put("key.serializer", serde);
        m.put("value.serializer", serde);
        m.put("transactional.id", "transactions are not supported (the producer is idempotent only)");
        m.put("transaction.timeout.ms", "transactions are not supported");
        m.put("transaction.two.phase.commit.enable", "transactions are not supported");
        m.put("partitioner.class", "the partitioner is Kafka's default (murmur2 of the key) and is not pluggable");
        m.put("partitioner.adaptive.partitioning.enable", "keyless records go to partitions in turn, not by load");
        m.put("partitioner.availability.timeout.ms", "keyless records go to partitions in turn, not by load");
        m.put("partitioner.ignore.keys", "a record with a key always goes to the key's partition");
        m.put("interceptor.classes", "producer interceptors are not supported");
        m.put("metric.reporters", "metrics are read through metrics() or a Micrometer MeterRegistry "
            + "(IdemlogProducerMetrics, docs/CLIENT.md)");
        m.put("metrics.num.samples", "metrics are counters and gauges, not sampled");
        m.put("metrics.recording.level", "metrics are counters and gauges, always recorded");
        m.put("metrics.sample.window.ms", "metrics are counters and gauges, not sampled");
        m.put("enable.metrics.push", "client metrics are not pushed to the server (KIP-714)");
        m.put("client.dns.lookup", "a host name is resolved by the JVM at each connect (use_all_dns_ips-like)");
        m.put("connections.max.idle.ms", "connections stay open while the producer lives");
        m.put("metadata.max.idle.ms", "the metadata of every topic sent to is kept while the producer lives");
        m.put("metadata.recovery.strategy", "the bootstrap servers are always retried when no broker answers");
        m.put("metadata.recovery.rebootstrap.trigger.ms",
            "the bootstrap servers are always retried when no broker answers");
        m.put("retry.backoff.max.ms", "the retry backoff is constant (retry.backoff.ms), not exponential");
        m.put("socket.connection.setup.timeout.max.ms",
            "the connect timeout is constant (socket.connection.setup.timeout.ms)");
        m.put("security.protocol", "only PLAINTEXT is supported");
        m.put("security.providers", "TLS and SASL are not supported (PLAINTEXT only)");
        for (String name : List.of("sasl.client.callback.handler.class", "sasl.jaas.config", "sasl.kerberos.kinit.cmd",
            "sasl.kerberos.min.time.before.relogin", "sasl.kerberos.service.name", "sasl.kerberos.ticket.renew.jitter",
            "sasl.kerberos.ticket.renew.window.factor", "sasl.login.callback.handler.class", "sasl.login.class",
            "sasl.login.connect.timeout.ms", "sasl.login.read.timeout.ms", "sasl.login.refresh.buffer.seconds",
            "sasl.login.refresh.min.period.seconds", "sasl.login.refresh.window.factor",
            "sasl.login.refresh.window.jitter", "sasl.login.retry.backoff.max.ms", "sasl.login.retry.backoff.ms",
            "sasl.mechanism")) {
            m.put(name, "SASL is not supported (PLAINTEXT only)");
        }
        m.put("ssl.cipher.suites", "TLS is not supported (PLAINTEXT only)");
        KAFKA_IGNORED = Collections.unmodifiableMap(m);
    }

    /** Families of kafka-clients properties ignored as a whole (SASL OAuth, TLS), by name prefix. */
    private static final Map<String, String> KAFKA_IGNORED_PREFIXES = Map.of(
        "sasl.oauthbearer.", "SASL is not supported (PLAINTEXT only)",
        "sasl.", "SASL is not supported (PLAINTEXT only)",
        "ssl.", "TLS is not supported (PLAINTEXT only)");

    /** Why a kafka-clients property is ignored here, or null when it is not one we ignore. */
    static String ignoredReason(String name) {
        String reason = KAFKA_IGNORED.get(name);
        if (reason != null) {
            return reason;
        }
        for (String prefix : List.of("sasl.oauthbearer.", "sasl.", "ssl.")) {
            if (name.startsWith(prefix)) {
                return KAFKA_IGNORED_PREFIXES.get(prefix);
            }
        }
        return null;
    }
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
    private final int retries;
    private final long reconnectBackoffMs;
    private final long reconnectBackoffMaxMs;
    private final long connectionSetupTimeoutMs;
    private final long stallTimeoutMs;
    private final long answerProbeMs;
    private final int sendBufferBytes;
    private final int receiveBufferBytes;
    private final String producerName;
    private final Compression compression;
    private final int compressionLevel;
    /** Ignored kafka-clients properties given, with why each is ignored (one warning each at build). */
    private final Map<String, String> ignored;

    private ProducerConfig(Map<String, Object> values, Set<String> explicit, Map<String, Object> ignoredValues) {
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
        metadataMaxAgeMs = (Long) values.get(METADATA_MAX_AGE_MS);
        maxRequestSize = (Integer) values.get(MAX_REQUEST_SIZE);
        retries = (Integer) values.get(RETRIES);
        reconnectBackoffMs = (Long) values.get(RECONNECT_BACKOFF_MS);
        long maxBackoff = (Long) values.get(RECONNECT_BACKOFF_MAX_MS);
        reconnectBackoffMaxMs = Math.max(maxBackoff, reconnectBackoffMs);
        connectionSetupTimeoutMs = (Long) values.get(SOCKET_CONNECTION_SETUP_TIMEOUT_MS);
        stallTimeoutMs = (Long) values.get(STALL_TIMEOUT_MS);
        answerProbeMs = (Long) values.get(ANSWER_PROBE_MS);
        sendBufferBytes = (Integer) values.get(SEND_BUFFER_BYTES);
        receiveBufferBytes = (Integer) values.get(RECEIVE_BUFFER_BYTES);
        producerName = ((String) values.get(PRODUCER_NAME)).trim();
        if (!producerName.isEmpty() && !(Boolean) values.get(ENABLE_IDEMPOTENCE)) {
            throw new ConfigException(PRODUCER_NAME + " needs " + ENABLE_IDEMPOTENCE + "=true (the identity is a "
                + "producer id and epoch)");
        }
        if (producerName.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 1024) {
            throw new ConfigException(PRODUCER_NAME + " is at most 1024 bytes (UTF-8)");
        }
        String codec = (String) values.get(COMPRESSION_TYPE);
        compression = Compression.forName(codec);
        if (compression == null) {
            throw new ConfigException(COMPRESSION_TYPE + " must be none, gzip, snappy, lz4 or zstd, got '" + codec
                + "'");
        }
        compressionLevel = switch (compression) {
            case GZIP -> level(values, COMPRESSION_GZIP_LEVEL, 1, 9, -1);
            case LZ4 -> level(values, COMPRESSION_LZ4_LEVEL, 1, 17, 1);
            case ZSTD -> level(values, COMPRESSION_ZSTD_LEVEL, -131072, 22, 3);
            default -> 0;
        };
        Map<String, String> why = new TreeMap<>();
        for (Map.Entry<String, Object> e : ignoredValues.entrySet()) {
            String name = e.getKey();
            Object value = e.getValue();
            if (name.equals("security.protocol")) {
                if (value != null && !"PLAINTEXT".equalsIgnoreCase(value.toString().trim())) {
                    throw new ConfigException("security.protocol=" + value + " is not supported: idemlog speaks "
                        + "PLAINTEXT only (ignoring it would send in clear what was meant to be protected)");
                }
                continue; // PLAINTEXT: what this producer does
            }
            why.put(name, ignoredReason(name));
        }
        ignored = Collections.unmodifiableMap(why);
        boolean idem = (Boolean) values.get(ENABLE_IDEMPOTENCE);
        if (idem && !explicit.contains(ENABLE_IDEMPOTENCE)) {
            String conflict = acks != Acks.ALL ? ACKS + "=" + acksName(acks)
                : retries == 0 ? RETRIES + "=0"
                : maxInFlight > MAX_IN_FLIGHT_FOR_IDEMPOTENCE ? MAX_IN_FLIGHT + "=" + maxInFlight : null;
            if (conflict != null) {
                // kafka-clients 3.2+: idempotence is on by default unless a conflicting setting turns it off
                LOG.warn("idempotence is off: {} conflicts with it and {} was not set (set {}=true to make this "
                    + "an error instead)", conflict, ENABLE_IDEMPOTENCE, ENABLE_IDEMPOTENCE);
                idem = false;
            }
        }
        idempotence = idem;
        validate();
        for (Map.Entry<String, String> e : ignored.entrySet()) {
            LOG.warn("producer property '{}' is accepted and ignored: {}", e.getKey(), e.getValue());
        }
    }

    private static int level(Map<String, Object> values, String name, int min, int max, int alsoAllowed) {
        int level = (Integer) values.get(name);
        if ((level < min || level > max) && level != alsoAllowed) {
            throw new ConfigException(name + " must be in [" + min + ", " + max + "]"
                + (alsoAllowed < min ? " or " + alsoAllowed : "") + ", got " + level);
        }
        return level;
    }

    private void validate() {
        nonNegative(LINGER_MS, lingerMs);
        nonNegative(MAX_BLOCK_MS, maxBlockMs);
        nonNegative(RETRY_BACKOFF_MS, retryBackoffMs);
        positive(REQUEST_TIMEOUT_MS, requestTimeoutMs);
        positive(DELIVERY_TIMEOUT_MS, deliveryTimeoutMs);
        positive(METADATA_MAX_AGE_MS, metadataMaxAgeMs);
        positive(MAX_IN_FLIGHT, maxInFlight);
        nonNegative(RETRIES, retries);
        nonNegative(RECONNECT_BACKOFF_MS, reconnectBackoffMs);
        nonNegative(RECONNECT_BACKOFF_MAX_MS, reconnectBackoffMaxMs);
        positive(SOCKET_CONNECTION_SETUP_TIMEOUT_MS, connectionSetupTimeoutMs);
        nonNegative(STALL_TIMEOUT_MS, stallTimeoutMs);
        nonNegative(ANSWER_PROBE_MS, answerProbeMs);
        if (connectionSetupTimeoutMs > Integer.MAX_VALUE) {
            throw new ConfigException(SOCKET_CONNECTION_SETUP_TIMEOUT_MS + " must fit in an int, got "
                + connectionSetupTimeoutMs);
        }
        if (sendBufferBytes < -1 || receiveBufferBytes < -1) {
            throw new ConfigException((sendBufferBytes < -1 ? SEND_BUFFER_BYTES : RECEIVE_BUFFER_BYTES)
                + " must be -1 (the OS default) or >= 0");
        }
        if (idempotence && retries == 0) {
            throw new ConfigException(ENABLE_IDEMPOTENCE + "=true requires " + RETRIES + " > 0 (a lost answer must "
                + "be retried for the server to deduplicate it), got " + RETRIES + "=0");
        }
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

    /** retries: sends of a failed batch after its first, before it fails. */
    public int retries() {
        return retries;
    }

    public long reconnectBackoffMs() {
        return reconnectBackoffMs;
    }

    /** reconnect.backoff.max.ms, at least {@link #reconnectBackoffMs()}. */
    public long reconnectBackoffMaxMs() {
        return reconnectBackoffMaxMs;
    }

    public long connectionSetupTimeoutMs() {
        return connectionSetupTimeoutMs;
    }

    /** stall.timeout.ms: the floor of the adaptive stall bound; 0 = stall detection off. */
    public long stallTimeoutMs() {
        return stallTimeoutMs;
    }

    /** answer.probe.ms: quiet time before a lost-answer probe; 0 = no probes. */
    public long answerProbeMs() {
        return answerProbeMs;
    }

    /** SO_SNDBUF, or -1 for the OS default. */
    public int sendBufferBytes() {
        return sendBufferBytes;
    }

    /** SO_RCVBUF, or -1 for the OS default. */
    /** The stable producer name, or "" for none. */
    public String producerName() {
        return producerName;
    }

    public int receiveBufferBytes() {
        return receiveBufferBytes;
    }

    /** The codec batches are compressed with ({@code compression.type}). */
    public Compression compression() {
        return compression;
    }

    /** The level of {@link #compression()} (its {@code compression.*.level}); 0 for none and snappy. */
    public int compressionLevel() {
        return compressionLevel;
    }

    /** The kafka-clients properties given that this producer ignores, with why (each was warned about once). */
    public Map<String, String> ignoredProperties() {
        return ignored;
    }

    @Override
    public String toString() {
        return "ProducerConfig(" + BOOTSTRAP_SERVERS + "=" + String.join(",", bootstrapServers) + ", " + CLIENT_ID
            + "=" + clientId + ", " + ACKS + "=" + acksName(acks) + ", " + LINGER_MS + "=" + lingerMs + ", "
            + BATCH_SIZE + "=" + batchSize + ", " + BUFFER_MEMORY + "=" + bufferMemory + ", " + MAX_BLOCK_MS + "="
            + maxBlockMs + ", " + DELIVERY_TIMEOUT_MS + "=" + deliveryTimeoutMs + ", " + REQUEST_TIMEOUT_MS + "="
            + requestTimeoutMs + ", " + RETRY_BACKOFF_MS + "=" + retryBackoffMs + ", " + MAX_IN_FLIGHT + "="
            + maxInFlight + ", " + ENABLE_IDEMPOTENCE + "=" + idempotence + ", " + METADATA_MAX_AGE_MS + "="
            + metadataMaxAgeMs + ", " + MAX_REQUEST_SIZE + "=" + maxRequestSize + ", " + RETRIES + "=" + retries
            + ", " + RECONNECT_BACKOFF_MS + "=" + reconnectBackoffMs + ", " + RECONNECT_BACKOFF_MAX_MS + "="
            + reconnectBackoffMaxMs + ", " + SOCKET_CONNECTION_SETUP_TIMEOUT_MS + "=" + connectionSetupTimeoutMs
            + ", " + STALL_TIMEOUT_MS + "=" + stallTimeoutMs + ", " + ANSWER_PROBE_MS + "=" + answerProbeMs
            + ", " + SEND_BUFFER_BYTES + "=" + sendBufferBytes + ", " + RECEIVE_BUFFER_BYTES + "="
            + receiveBufferBytes + ", " + COMPRESSION_TYPE + "=" + compression.kafkaName
            + (compression == Compression.NONE || compression == Compression.SNAPPY ? "" : "@" + compressionLevel)
            + (ignored.isEmpty() ? "" : ", ignored=" + ignored.keySet()) + ")";
    }

    /** Collects option values; {@link #build()} converts and validates them all at once. */
    public static final class Builder {
        private final Map<String, Object> values = new LinkedHashMap<>();
        private final Set<String> explicit = new HashSet<>();
        private final Map<String, Object> ignoredValues = new LinkedHashMap<>();

        private Builder() {
            for (Option o : OPTIONS) {
                if (o.defaultValue() != null) {
                    values.put(o.name(), o.defaultValue());
                }
            }
        }

        /**
         * Sets an option by its Kafka name. The value may be a string (as in a properties file) or a value of
         * the option's type (a kafka-clients List for bootstrap.servers too). A kafka-clients property this
         * producer ignores is accepted with any value and warned about at {@link #build()}; names that are
         * neither are rejected here.
         */
        public Builder set(String name, Object value) {
            Objects.requireNonNull(name, "name");
            Option option = BY_NAME.get(name);
            if (option == null) {
                if (ignoredReason(name) != null) {
                    ignoredValues.put(name, value);
                    return this;
                }
                throw new ConfigException("unknown property '" + name + "'; known properties: "
                    + String.join(", ", BY_NAME.keySet()) + ", and kafka-clients' producer properties");
            }
            if (value instanceof Collection<?> list && option.type() == String.class) {
                StringBuilder sb = new StringBuilder();
                for (Object o : list) {
                    sb.append(sb.length() == 0 ? "" : ",").append(o);
                }
                value = sb.toString();
            }
            values.put(name, convert(option, value));
            explicit.add(name);
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

        /** none, gzip, snappy, lz4 or zstd ({@code compression.type}). */
        public Builder compressionType(String codec) {
            return set(COMPRESSION_TYPE, codec);
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

        public Builder retries(int retries) {
            return set(RETRIES, retries);
        }

        public Builder reconnectBackoffMs(long ms) {
            return set(RECONNECT_BACKOFF_MS, ms);
        }

        public Builder reconnectBackoffMaxMs(long ms) {
            return set(RECONNECT_BACKOFF_MAX_MS, ms);
        }

        public Builder stallTimeoutMs(long ms) {
            return set(STALL_TIMEOUT_MS, ms);
        }

        public Builder answerProbeMs(long ms) {
            return set(ANSWER_PROBE_MS, ms);
        }

        /** {@value ProducerConfig#PRODUCER_NAME}: a stable identity that fences older instances of the same name. */
        public Builder producerName(String name) {
            return set(PRODUCER_NAME, name);
        }

        /** Validates every option and the rules between them; throws {@link ConfigException} naming the option. */
        public ProducerConfig build() {
            return new ProducerConfig(values, explicit, ignoredValues);
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
