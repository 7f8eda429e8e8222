package io.idemlog.testkit;

import io.idemlog.common.protocol.ApiKey;
import io.idemlog.common.protocol.ErrorCode;
import io.idemlog.common.protocol.MemoryRecords;
import io.idemlog.common.protocol.message.FetchRequest;
import io.idemlog.common.protocol.message.FetchResponse;
import io.idemlog.common.protocol.message.ListOffsetsRequest;
import io.idemlog.common.protocol.message.ListOffsetsResponse;
import io.idemlog.common.protocol.message.MetadataRequest;
import io.idemlog.common.protocol.message.MetadataResponse;
import io.idemlog.common.record.RecordBatch;
import io.idemlog.common.record.RecordReader;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Reads every record of a topic back from any Kafka-protocol server (idemlog or Apache Kafka), with the common codec
 * over plain blocking sockets: Metadata to find the partitions and their leaders, ListOffsets for the earliest and
 * latest offsets, then Fetch (v12 where the server has it) from the earliest offset until the latest offset seen
 * when the read started.
 *
 * <p>What it checks on the way, because a test tool must not hide a broken log: every batch's header
 * ({@link RecordBatch#validate}: length, magic, CRC, record count).
 * Records before the requested offset (a fetch may start at the batch that holds
 * it) and the incomplete batch a fetch may end with are skipped, as a Kafka consumer does. Compressed batches are
 * decompressed into a copy ({@link BatchInflater}; gzip, snappy, lz4, zstd); control batches are skipped.
 *
 * <p>Not thread-safe. Close it to close its connections.
 */
public final class LogReader implements AutoCloseable {
    /** Earliest (log start) and latest (log end, exclusive) offsets of a partition. */
    public record Offsets(long earliest, long latest) {
    }

    private static final short METADATA_VERSION = 9;
    private static final short LIST_OFFSETS_VERSION = 6;
    private static final short FETCH_VERSION = 12;
    private static final int FETCH_MAX_WAIT_MS = 100;
    private static final int FETCH_MAX_BYTES = 16 * 1024 * 1024;
    private static final int PARTITION_MAX_BYTES = 4 * 1024 * 1024;
    private static final long RETRY_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    /** Kafka's OFFSET_NOT_AVAILABLE (retriable; not in the common ErrorCode table: idemlog never sends it). */
    private static final short OFFSET_NOT_AVAILABLE = 78;

    private final InetSocketAddress bootstrap;
    private final Duration timeout;
    private final Map<Integer, WireConnection> leaders = new HashMap<>();
    private WireConnection bootstrapConnection;

    /** A reader that gives up on any partition it could not read within 60 seconds. */
    public LogReader(InetSocketAddress bootstrap) {
        this(bootstrap, Duration.ofSeconds(60));
    }

    /**
     * @param bootstrap any server of the cluster
     * @param timeout   bound on each network read, and on reading one partition to its end
     */
    public LogReader(InetSocketAddress bootstrap, Duration timeout) {
        this.bootstrap = bootstrap;
        this.timeout = timeout;
    }

    /**
     * Number of partitions of {@code topic}.
     *
     * @throws IOException when the topic does not exist or the server cannot be reached
     */
    public int partitionCount(String topic) throws IOException {
        return metadata(topic).findTopic(topic).partitions.size();
    }

    /** The earliest and latest offsets of one partition. */
    public Offsets offsets(String topic, int partition) throws IOException {
        return new Offsets(listOffset(topic, partition, ListOffsetsRequest.EARLIEST_TIMESTAMP),
            listOffset(topic, partition, ListOffsetsRequest.LATEST_TIMESTAMP));
    }

    /**
     * Reads every partition of {@code topic}, partition 0 first, each in offset order, and hands each record to
     * {@code sink}.
     *
     * @return the number of records read
     */
    public long readAll(String topic, Consumer<LoggedRecord> sink) throws IOException {
        int partitions = partitionCount(topic);
        long total = 0;
        for (int p = 0; p < partitions; p++) {
            total += read(topic, p, sink);
        }
        return total;
    }

    /**
     * Reads one partition from its earliest offset to the latest offset at the time of the call, in offset order.
     *
     * @return the number of records read
     * @throws IOException on a non-retriable fetch error, a corrupt batch, or when the end is not reached within the
     *                     timeout
     */
    public long read(String topic, int partition, Consumer<LoggedRecord> sink) throws IOException {
        long end = listOffset(topic, partition, ListOffsetsRequest.LATEST_TIMESTAMP);
        long position = listOffset(topic, partition, ListOffsetsRequest.EARLIEST_TIMESTAMP);
        WireConnection leader = leader(topic, partition);
        long deadline = System.nanoTime() + timeout.toNanos();
        Cursor cursor = new Cursor(partition, position, end, sink);
        while (cursor.position < end) {
            if (System.nanoTime() - deadline > 0) {
                throw new IOException("timed out reading " + topic + "-" + partition + " at offset "
                    + cursor.position + " of " + end);
            }
            FetchResponse.Partition data = fetch(leader, topic, partition, cursor.position);
            if (data.errorCode != ErrorCode.NONE.code) {
                if (!isRetriable(data.errorCode)) {
                    throw new IOException("Fetch " + topic + "-" + partition + " at " + cursor.position + ": "
                        + ErrorCode.forCode(data.errorCode) + " (" + data.errorCode + ")");
                }
                LockSupport.parkNanos(RETRY_PAUSE_NANOS);
                leader = leader(topic, partition);
                continue;
            }
            long before = cursor.position;
            if (data.records instanceof MemoryRecords records) {
                cursor.readBatches(records.buffer());
            }
            if (cursor.position == before) {
                LockSupport.parkNanos(RETRY_PAUSE_NANOS);
            }
        }
        return cursor.count;
    }

    /** Where the read of one partition stands: the next offset wanted and the records handed out so far. */
    private static final class Cursor {
        private final RecordBatch batch = new RecordBatch();
        private final RecordReader reader = new RecordReader();
        private final int partition;
        private final long end;
        private final Consumer<LoggedRecord> sink;
        private long position;
        private long count;

        Cursor(int partition, long position, long end, Consumer<LoggedRecord> sink) {
            this.partition = partition;
            this.position = position;
            this.end = end;
            this.sink = sink;
        }

        /** Hands out the records of one fetch's batches that lie in [position, end), and moves past them. */
        void readBatches(ByteBuffer buffer) throws IOException {
            int index = buffer.position();
            int limit = buffer.limit();
            while (limit - index >= RecordBatch.HEADER_SIZE) {
                batch.wrap(buffer, index);
                RecordBatch.Validation validation = batch.validateStored(limit - index, Integer.MAX_VALUE);
                if (validation == RecordBatch.Validation.TRUNCATED) {
                    return; // the incomplete batch that may end a fetch
                }
                if (validation != RecordBatch.Validation.VALID) {
                    throw new IOException("corrupt batch in partition " + partition + " at offset "
                        + batch.baseOffset() + ": " + batch.describe(validation, limit - index, Integer.MAX_VALUE));
                }
                int size = batch.sizeInBytes();
                if (batch.lastOffset() >= position && !batch.isControl()) {
                    if (batch.compression() != 0) {
                        reader.wrap(BatchInflater.inflate(buffer, index, batch), 0);
                    } else {
                        reader.wrap(buffer, index);
                    }
                    while (reader.next()) {
                        if (reader.offset >= position && reader.offset < end) {
                            sink.accept(new LoggedRecord(partition, reader.offset, reader.timestamp, reader.key(),
                                reader.value()));
                            count++;
                        }
                    }
                }
                position = Math.max(position, batch.lastOffset() + 1);
                index += size;
            }
        }
    }

    private FetchResponse.Partition fetch(WireConnection leader, String topic, int partition, long offset)
        throws IOException {
        short version = leader.version(ApiKey.FETCH, FETCH_VERSION);
        FetchRequest request = new FetchRequest();
        request.maxWaitMs = FETCH_MAX_WAIT_MS;
        request.minBytes = 1;
        request.maxBytes = FETCH_MAX_BYTES;
        request.sessionId = 0;
        request.sessionEpoch = -1; // no fetch session: every fetch is complete in itself
        FetchRequest.Topic t = new FetchRequest.Topic(topic);
        t.partitions.add(new FetchRequest.Partition(partition, offset, PARTITION_MAX_BYTES));
        request.topics.add(t);
        FetchResponse response = leader.request(ApiKey.FETCH, version, request, FetchResponse::read);
        if (response.errorCode != ErrorCode.NONE.code) {
            throw new IOException("Fetch failed: " + ErrorCode.forCode(response.errorCode));
        }
        for (FetchResponse.Topic rt : response.topics) {
            for (FetchResponse.Partition rp : rt.partitions) {
                if (topic.equals(rt.topic) && rp.partitionIndex == partition) {
                    return rp;
                }
            }
        }
        throw new IOException("Fetch response without " + topic + "-" + partition);
    }

    /**
     * One ListOffsets lookup at the partition's leader, retried on retriable errors until the timeout (a partition
     * can be listed in Metadata a moment before its leader serves it).
     */
    private long listOffset(String topic, int partition, long timestamp) throws IOException {
        ListOffsetsRequest request = new ListOffsetsRequest();
        ListOffsetsRequest.Topic t = new ListOffsetsRequest.Topic(topic);
        t.partitions.add(new ListOffsetsRequest.Partition(partition, timestamp));
        request.topics.add(t);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            WireConnection leader = leader(topic, partition);
            short version = leader.version(ApiKey.LIST_OFFSETS, LIST_OFFSETS_VERSION);
            ListOffsetsResponse.Partition answer = null;
            for (ListOffsetsResponse.Topic rt : leader.request(ApiKey.LIST_OFFSETS, version, request,
                ListOffsetsResponse::read).topics) {
                for (ListOffsetsResponse.Partition rp : rt.partitions) {
                    if (topic.equals(rt.name) && rp.partitionIndex == partition) {
                        answer = rp;
                    }
                }
            }
            if (answer == null) {
                throw new IOException("ListOffsets response without " + topic + "-" + partition);
            }
            if (answer.errorCode == ErrorCode.NONE.code) {
                return answer.offset;
            }
            if (!isRetriable(answer.errorCode) || System.nanoTime() - deadline > 0) {
                throw new IOException("ListOffsets " + topic + "-" + partition + ": "
                    + ErrorCode.forCode(answer.errorCode) + " (" + answer.errorCode + ")");
            }
            LockSupport.parkNanos(RETRY_PAUSE_NANOS);
        }
    }

    /** Errors a reader outlives by asking again: the leader is moving, not ready yet, or busy. */
    private static boolean isRetriable(short errorCode) {
        return errorCode == OFFSET_NOT_AVAILABLE || ErrorCode.forCode(errorCode).retriable;
    }

    /** Metadata of one topic; retried until every partition has a leader or the timeout passes. */
    private MetadataResponse metadata(String topic) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            MetadataResponse response = metadataResponse(topic);
            MetadataResponse.Topic t = response.findTopic(topic);
            ErrorCode error = t == null ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.forCode(t.errorCode);
            if (error == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
                throw new IOException("unknown topic " + topic + " on " + bootstrap);
            }
            if (error == ErrorCode.NONE && !t.partitions.isEmpty() && allLed(t.partitions)) {
                return response;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IOException("topic " + topic + " has no leader for every partition: " + error);
            }
            LockSupport.parkNanos(RETRY_PAUSE_NANOS);
        }
    }

    private static boolean allLed(List<MetadataResponse.Partition> partitions) {
        for (MetadataResponse.Partition p : partitions) {
            if (p.errorCode != ErrorCode.NONE.code || p.leaderId < 0) {
                return false;
            }
        }
        return true;
    }

    private MetadataResponse metadataResponse(String topic) throws IOException {
        WireConnection connection = bootstrapConnection();
        MetadataRequest request = new MetadataRequest();
        request.topics = List.of(topic);
        request.allowAutoTopicCreation = false;
        short version = connection.version(ApiKey.METADATA, METADATA_VERSION);
        return connection.request(ApiKey.METADATA, version, request, MetadataResponse::read);
    }

    private WireConnection bootstrapConnection() throws IOException {
        if (bootstrapConnection == null) {
            bootstrapConnection = WireConnection.connect(bootstrap, timeout);
        }
        return bootstrapConnection;
    }

    /** The connection to the leader of a partition, opened on first use and kept per node. */
    private WireConnection leader(String topic, int partition) throws IOException {
        MetadataResponse response = metadata(topic);
        MetadataResponse.Partition p = null;
        for (MetadataResponse.Partition candidate : response.findTopic(topic).partitions) {
            if (candidate.partitionIndex == partition) {
                p = candidate;
            }
        }
        if (p == null) {
            throw new IOException(topic + " has no partition " + partition);
        }
        WireConnection connection = leaders.get(p.leaderId);
        if (connection == null) {
            MetadataResponse.Broker broker = response.findBroker(p.leaderId);
            if (broker == null) {
                throw new IOException("leader " + p.leaderId + " of " + topic + "-" + partition
                    + " is not among the brokers");
            }
            connection = WireConnection.connect(new InetSocketAddress(broker.host, broker.port), timeout);
            leaders.put(p.leaderId, connection);
        }
        return connection;
    }

    /** Closes every connection this reader opened. */
    @Override
    public void close() {
        if (bootstrapConnection != null) {
            bootstrapConnection.close();
            bootstrapConnection = null;
        }
        for (WireConnection c : leaders.values()) {
            c.close();
        }
        leaders.clear();
    }
}
