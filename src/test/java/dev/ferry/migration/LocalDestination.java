package dev.ferry.migration;

import dev.ferry.migration.PeerProtocol.Prepared;
import dev.ferry.migration.PeerProtocol.Switchover;
import java.time.Duration;
import java.util.List;

/** A destination in the same process: the destination's side called directly instead of over HTTP. */
final class LocalDestination implements Destination {
    private final IncomingMigrations incoming;
    private final PeerProtocol.Request request;

    LocalDestination(IncomingMigrations incoming, PeerProtocol.Request request) {
        this.incoming = incoming;
        this.request = request;
    }

    @Override
    public List<MigrationReport.Blocker> check() {
        return incoming.check(request);
    }

    @Override
    public Prepared prepare() throws MigrationException {
        return incoming.prepare(request);
    }

    @Override
    public Switchover switchover() throws MigrationException {
        return incoming.switchover(request.migrationId(), Duration.ofSeconds(30));
    }

    @Override
    public void abort() throws MigrationException {
        incoming.abort(request.migrationId());
    }
}
