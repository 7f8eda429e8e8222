package io.idemlog.server.handler;

import io.idemlog.common.protocol.message.DescribeConfigsResponse;
import io.idemlog.server.config.ServerConfig;
import io.idemlog.server.metadata.TopicConfig;
import io.idemlog.server.metadata.TopicConfigDef;

import java.util.ArrayList;
import java.util.List;

/**
 * Topic and broker configs as Kafka's DescribeConfigs / CreateTopics v5+ report them: value, source, read-only,
 * synonyms in precedence order (the topic's override, the broker property when the operator set it, the default),
 * type codes. Shared by the admin handlers.
 */
final class TopicConfigs {
    static final byte SOURCE_TOPIC = 1;
    static final byte SOURCE_STATIC_BROKER = 4;
    static final byte SOURCE_DEFAULT = 5;

    private TopicConfigs() {
    }

    /** One topic config entry; {@code synonyms} and {@code documentation} only when asked. */
    static DescribeConfigsResponse.Config describe(TopicConfig tc, TopicConfigDef.Key key, boolean synonyms,
                                                   boolean documentation) {
        DescribeConfigsResponse.Config c = new DescribeConfigsResponse.Config();
        c.name = key.name();
        c.value = tc.value(key.name());
        c.readOnly = false;
        c.configSource = tc.source(key.name()).kafkaCode;
        c.isSensitive = false;
        c.configType = key.type().kafkaCode;
        if (documentation) {
            c.documentation = key.doc();
        }
        if (synonyms) {
            c.synonyms.addAll(synonyms(tc, key));
        }
        return c;
    }

    static List<DescribeConfigsResponse.Synonym> synonyms(TopicConfig tc, TopicConfigDef.Key key) {
        List<DescribeConfigsResponse.Synonym> out = new ArrayList<>();
        String override = tc.overrides().get(key.name());
        if (override != null) {
            out.add(new DescribeConfigsResponse.Synonym(key.name(), override, SOURCE_TOPIC));
        }
        if (key.brokerSynonym() != null) {
            String broker = tc.brokerValue(key.name());
            if (isBrokerSet(tc, key)) {
                out.add(new DescribeConfigsResponse.Synonym(key.brokerSynonym(), broker, SOURCE_STATIC_BROKER));
                out.add(new DescribeConfigsResponse.Synonym(key.brokerSynonym(), key.kafkaDefault(),
                    SOURCE_DEFAULT));
            } else {
                out.add(new DescribeConfigsResponse.Synonym(key.brokerSynonym(), broker, SOURCE_DEFAULT));
            }
        } else {
            out.add(new DescribeConfigsResponse.Synonym(key.name(), key.kafkaDefault(), SOURCE_DEFAULT));
        }
        return out;
    }

    /** Whether the operator set the broker property behind {@code key} (seen through a topic without override). */
    private static boolean isBrokerSet(TopicConfig tc, TopicConfigDef.Key key) {
        TopicConfig bare = new TopicConfig(tc.def(), java.util.Map.of(), tc.brokerDefaults());
        return bare.source(key.name()) == TopicConfigDef.Source.STATIC_BROKER;
    }

    /** Every broker property as a read-only entry. */
    static DescribeConfigsResponse.Config broker(ServerConfig config, String name, boolean synonyms,
                                                 boolean documentation) {
        DescribeConfigsResponse.Config c = new DescribeConfigsResponse.Config();
        c.name = name;
        c.value = config.get(name);
        c.readOnly = true;
        c.configSource = config.isExplicitlySet(name) ? SOURCE_STATIC_BROKER : SOURCE_DEFAULT;
        c.isSensitive = false;
        c.configType = typeCode(ServerConfig.typeOf(name));
        if (documentation) {
            c.documentation = ServerConfig.docOf(name);
        }
        if (synonyms) {
            c.synonyms.add(new DescribeConfigsResponse.Synonym(name, c.value, c.configSource));
        }
        return c;
    }

    static byte typeCode(String type) {
        if (type == null) {
            return 0;
        }
        return switch (type) {
            case "boolean" -> 1;
            case "string" -> 2;
            case "int" -> 3;
            case "long" -> 5;
            case "list" -> 7;
            default -> 0;
        };
    }
}
