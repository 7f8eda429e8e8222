package io.idemlog.common.protocol.message;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.File;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * kafka-clients 3.9 as a second oracle, for every version it implements, including those 4.x removed (OffsetCommit
 * v0-v1, OffsetFetch v0, which kafka-python and librdkafka may still send): the jar is loaded in a class loader of
 * its own (it cannot share the class path with 4.x); its generated message class reads the bytes idemlog wrote for
 * a populated message, must see the same field values (its toString), and must write back the very same bytes.
 */
class Kafka39OracleTest {
    private static URLClassLoader loader;
    private static Class<?> readable;
    private static Class<?> writable;
    private static Class<?> cacheClass;
    private static Constructor<?> accessor;

    @BeforeAll
    static void load() throws Exception {
        String dir = System.getProperty("idemlog.kafka3.dir");
        String version = System.getProperty("idemlog.kafka3.version");
        assertNotNull(dir, "idemlog.kafka3.dir (set by common/pom.xml)");
        File jar = new File(dir, "kafka-clients-" + version + ".jar");
        assertTrue(jar.isFile(), jar + " (copied by the dependency plugin)");
        loader = new URLClassLoader(new URL[] {jar.toURI().toURL()}, ClassLoader.getPlatformClassLoader());
        readable = loader.loadClass("org.apache.kafka.common.protocol.Readable");
        writable = loader.loadClass("org.apache.kafka.common.protocol.Writable");
        cacheClass = loader.loadClass("org.apache.kafka.common.protocol.ObjectSerializationCache");
        accessor = loader.loadClass("org.apache.kafka.common.protocol.ByteBufferAccessor")
            .getConstructor(ByteBuffer.class);
    }

    @AfterAll
    static void close() throws Exception {
        loader.close();
    }

    private static String className(String apiName, boolean request) {
        StringBuilder b = new StringBuilder("org.apache.kafka.common.message.");
        for (String part : apiName.split("_")) {
            b.append(part.charAt(0)).append(part.substring(1).toLowerCase());
        }
        return b.append(request ? "RequestData" : "ResponseData").toString();
    }

    /** Version range of the 3.9 message class: its lowestSupportedVersion/highestSupportedVersion. */
    private static short[] range(Class<?> data) throws Exception {
        Object blank = data.getConstructor().newInstance();
        return new short[] {(short) data.getMethod("lowestSupportedVersion").invoke(blank),
            (short) data.getMethod("highestSupportedVersion").invoke(blank)};
    }

    /** 3.9 reads {@code bytes} at {@code version}, writes them back; returns its toString and the bytes. */
    private static Object[] readAndWrite(Class<?> data, byte[] bytes, short version) throws Exception {
        Object msg = data.getConstructor(readable, short.class)
            .newInstance(accessor.newInstance(ByteBuffer.wrap(bytes)), version);
        Object cache = cacheClass.getConstructor().newInstance();
        int size = (int) data.getMethod("size", cacheClass, short.class).invoke(msg, cache, version);
        ByteBuffer out = ByteBuffer.allocate(size);
        Method write = data.getMethod("write", writable, cacheClass, short.class);
        write.invoke(msg, accessor.newInstance(out), cache, version);
        return new Object[] {msg.toString(), out.array()};
    }

    private static void check(String apiName, boolean request, Message ours, short v, String... expect)
        throws Exception {
        Class<?> data = loader.loadClass(className(apiName, request));
        byte[] bytes = CodecOracle.ours(ours, v);
        Object[] back = readAndWrite(data, bytes, v);
        assertArrayEquals(bytes, (byte[]) back[1], apiName + (request ? " request" : " response") + " v" + v);
        for (String e : expect) {
            assertTrue(((String) back[0]).contains(e), () -> back[0] + " lacks " + e);
        }
    }

    @TestFactory
    List<DynamicTest> everyGroupApiVersionThatKafka39Has() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (GroupApis.Api api : GroupApis.ALL) {
            for (boolean request : new boolean[] {true, false}) {
                short[] theirs = range(loader.loadClass(className(api.name(), request)));
                short from = (short) Math.max(theirs[0], api.minVersion());
                short to = (short) Math.min(theirs[1], api.maxVersion());
                assertTrue(from <= to, api.name());
                for (short v = from; v <= to; v++) {
                    short version = v;
                    tests.add(DynamicTest.dynamicTest(api.name() + (request ? " request" : " response") + " v" + v,
                        () -> check(api.name(), request, request ? GroupSamples.request(api, version)
                            : GroupSamples.response(api, version), version)));
                }
            }
        }
        return tests;
    }

    /** The versions only 3.9 has, with the fields that make them differ. */
    @Test
    void offsetCommitV0V1AndOffsetFetchV0AsKafka39ReadsThem() throws Exception {
        check("OFFSET_COMMIT", true, GroupSamples.request(GroupApis.OFFSET_COMMIT, (short) 0), (short) 0,
            "groupId='g1'", "generationIdOrMemberEpoch=-1", "committedOffset=1234", "committedMetadata='m'",
            "committedMetadata=null");
        check("OFFSET_COMMIT", true, GroupSamples.request(GroupApis.OFFSET_COMMIT, (short) 1), (short) 1,
            "generationIdOrMemberEpoch=5", "memberId='m-1'", "commitTimestamp=1700000000000", "commitTimestamp=-1");
        check("OFFSET_COMMIT", false, GroupSamples.response(GroupApis.OFFSET_COMMIT, (short) 0), (short) 0,
            "errorCode=22");
        check("OFFSET_FETCH", true, GroupSamples.request(GroupApis.OFFSET_FETCH, (short) 0), (short) 0,
            "groupId='g1'", "partitionIndexes=[0, 1, 7]");
        check("OFFSET_FETCH", false, GroupSamples.response(GroupApis.OFFSET_FETCH, (short) 0), (short) 0,
            "committedOffset=99", "metadata='meta'", "metadata=null", "errorCode=3");
        assertEquals(0, range(loader.loadClass(className("OFFSET_COMMIT", true)))[0]);
    }

    @TestFactory
    List<DynamicTest> listOffsetsV1ToV9() {
        List<DynamicTest> tests = new ArrayList<>();
        for (short v = 1; v <= 9; v++) {
            short version = v;
            tests.add(DynamicTest.dynamicTest("LIST_OFFSETS v" + v, () -> {
                ListOffsetsRequest m = new ListOffsetsRequest();
                ListOffsetsRequest.Topic t = new ListOffsetsRequest.Topic("orders");
                t.partitions.add(new ListOffsetsRequest.Partition(0, ListOffsetsRequest.MAX_TIMESTAMP));
                t.partitions.add(new ListOffsetsRequest.Partition(1, ListOffsetsRequest.EARLIEST_LOCAL_TIMESTAMP));
                m.topics.add(t);
                check("LIST_OFFSETS", true, m, version, "timestamp=-3", "timestamp=-4");
            }));
        }
        return tests;
    }

    /**
     * DescribeLogDirs v0-v4 and DeleteRecords v0-v2 as kafka-clients 3.9 reads and writes them (v0 of
     * DescribeLogDirs exists only there: 4.0 removed it).
     */
    @TestFactory
    List<DynamicTest> describeLogDirsAndDeleteRecordsEveryVersion() {
        List<DynamicTest> tests = new ArrayList<>();
        for (short v = 0; v <= 4; v++) {
            short version = v;
            tests.add(DynamicTest.dynamicTest("DESCRIBE_LOG_DIRS v" + v, () -> {
                check("DESCRIBE_LOG_DIRS", true, new DescribeLogDirsRequest(), version, "topics=null");
                DescribeLogDirsRequest m = new DescribeLogDirsRequest();
                m.topics = new ArrayList<>(List.of(new DescribeLogDirsRequest.Topic("orders", 0, 2)));
                check("DESCRIBE_LOG_DIRS", true, m, version, "topic='orders'", "partitions=[0, 2]");
                DescribeLogDirsResponse r = new DescribeLogDirsResponse();
                r.errorCode = (short) (version >= 3 ? 42 : 0);
                DescribeLogDirsResponse.Result d = new DescribeLogDirsResponse.Result();
                d.logDir = "/data/idemlog";
                if (version >= 4) {
                    d.totalBytes = 1L << 40;
                    d.usableBytes = 1L << 30;
                }
                DescribeLogDirsResponse.Topic t = new DescribeLogDirsResponse.Topic();
                t.name = "orders";
                DescribeLogDirsResponse.Partition p = new DescribeLogDirsResponse.Partition();
                p.partitionIndex = 1;
                p.partitionSize = 4096L;
                t.partitions.add(p);
                d.topics.add(t);
                r.results.add(d);
                check("DESCRIBE_LOG_DIRS", false, r, version, "logDir='/data/idemlog'", "partitionSize=4096",
                    "isFutureKey=false", version >= 4 ? "totalBytes=1099511627776" : "totalBytes=-1");
            }));
        }
        for (short v = 0; v <= 2; v++) {
            short version = v;
            tests.add(DynamicTest.dynamicTest("DELETE_RECORDS v" + v, () -> {
                DeleteRecordsRequest m = new DeleteRecordsRequest();
                DeleteRecordsRequest.Topic t = new DeleteRecordsRequest.Topic("orders");
                t.partitions.add(new DeleteRecordsRequest.Partition(2, 77L));
                m.topics.add(t);
                check("DELETE_RECORDS", true, m, version, "name='orders'", "partitionIndex=2", "offset=77");
                DeleteRecordsResponse r = new DeleteRecordsResponse();
                DeleteRecordsResponse.Topic rt = new DeleteRecordsResponse.Topic();
                rt.name = "orders";
                DeleteRecordsResponse.Partition rp = new DeleteRecordsResponse.Partition();
                rp.partitionIndex = 2;
                rp.lowWatermark = 77L;
                rt.partitions.add(rp);
                r.topics.add(rt);
                check("DELETE_RECORDS", false, r, version, "lowWatermark=77", "errorCode=0");
            }));
        }
        return tests;
    }

    /** OffsetForLeaderEpoch v0-v4 as kafka-clients 3.9 reads and writes them (4.0 removed request v0-v1). */
    @TestFactory
    List<DynamicTest> offsetForLeaderEpochEveryVersion() {
        List<DynamicTest> tests = new ArrayList<>();
        for (short v = 0; v <= 4; v++) {
            short version = v;
            tests.add(DynamicTest.dynamicTest("OFFSET_FOR_LEADER_EPOCH v" + v, () -> {
                OffsetForLeaderEpochRequest m = new OffsetForLeaderEpochRequest();
                m.replicaId = -1;
                OffsetForLeaderEpochRequest.Topic t = new OffsetForLeaderEpochRequest.Topic("orders");
                t.partitions.add(new OffsetForLeaderEpochRequest.Partition(2, version >= 2 ? 9 : -1, 8));
                m.topics.add(t);
                check("OFFSET_FOR_LEADER_EPOCH", true, m, version, "topic='orders'", "partition=2",
                    "leaderEpoch=8", version >= 2 ? "currentLeaderEpoch=9" : "currentLeaderEpoch=-1",
                    version >= 3 ? "replicaId=-1" : "replicaId=-2");
                OffsetForLeaderEpochResponse r = new OffsetForLeaderEpochResponse();
                OffsetForLeaderEpochResponse.Topic rt = new OffsetForLeaderEpochResponse.Topic("orders");
                rt.partitions.add(new OffsetForLeaderEpochResponse.Partition(2, (short) 0, version >= 1 ? 8 : -1,
                    77L));
                r.topics.add(rt);
                check("OFFSET_FOR_LEADER_EPOCH", false, r, version, "endOffset=77", "errorCode=0",
                    version >= 1 ? "leaderEpoch=8" : "leaderEpoch=-1");
            }));
        }
        return tests;
    }
}
