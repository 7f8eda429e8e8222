package io.idemlog.server.state;

class ReferenceProducerStateTableTest extends ProducerStateTableContract {
    @Override
    ProducerStateTable newTable(int maxProducers, long expirationMs) {
        return new ReferenceProducerStateTable(maxProducers, expirationMs);
    }

    @Override
    ProducerStateTable newTable(int maxProducers, long expirationMs, EvictionPolicy policy) {
        return new ReferenceProducerStateTable(maxProducers, expirationMs, policy);
    }
}
