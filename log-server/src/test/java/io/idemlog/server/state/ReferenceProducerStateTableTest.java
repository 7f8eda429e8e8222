package io.idemlog.server.state;

class ReferenceProducerStateTableTest extends ProducerStateTableContract {
    @Override
    ProducerStateTable newTable(int maxProducers, long expirationMs) {
        return new ReferenceProducerStateTable(maxProducers, expirationMs);
    }
}
