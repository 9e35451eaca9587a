package dev.ferry.migration;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.device.DeviceControllers;
import dev.ferry.device.disk.DiskImages;
import dev.ferry.device.disk.ImageStore;
import dev.ferry.vm.PathRoots;
import dev.ferry.vm.QemuTls;
import dev.ferry.vm.VmHost;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Both sides of migrations on one host, wired in one place, with the threads they run on. The
 * threads are named after the host and shut down in order by {@link #close}: first no new
 * recovery retries, then the migrations (their journals say where they stood), then device steps
 * and the peer clients.
 */
public final class Migrations implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Migrations.class);
    private static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(5);

    /**
     * What one host's migrations are made of.
     *
     * @param host             this host's name
     * @param peers            the agents of other hosts by name
     * @param migrationAddress the address this host's incoming QEMUs and NBD exports listen on
     * @param imagesRoot       where copies of incoming local disks go
     * @param keptLogs         where the serial logs of VMs that left this host are kept
     * @param roots            the directories whose files VMs and save files may use here
     * @param peerTls          how peers are called over HTTPS (this host's certificate, the cluster CA);
     *                         null when they are called over plain HTTP
     * @param streamTls        this host's certificates for QEMU's migration stream and NBD copies, both ways;
     *                         null when those travel plain
     */
    public record Setup(String host, Map<String, URI> peers, String migrationAddress, Path imagesRoot, Path keptLogs,
                        DeviceControllers devices, DiskImages images, VmHost runtime, HostVms vms,
                        MigrationStore store, Clock clock, ObjectMapper json, PathRoots roots, SSLContext peerTls,
                        QemuTls streamTls) {}

    private final SourceMigrations source;
    private final DestinationMigrations destination;
    private final SourceRecovery sourceRecovery;
    private final DestinationRecovery destinationRecovery;
    private final ScheduledExecutorService retries;
    private final ExecutorService workers;
    private final ExecutorService steps;
    private final ExecutorService peerIo;

    public Migrations(Setup s) {
        retries = Executors.newSingleThreadScheduledExecutor(threads(s.host(), "recovery"));
        workers = Executors.newCachedThreadPool(threads(s.host(), "migration"));
        steps = Executors.newCachedThreadPool(threads(s.host(), "device-step"));
        peerIo = Executors.newCachedThreadPool(threads(s.host(), "peer-http"));
        Peers peers = new Peers(s.peers(), s.json(), s.clock(), peerIo, s.peerTls());
        sourceRecovery = new SourceRecovery(s.host(), s.vms(), s.store(), peers, s.devices(), s.keptLogs(), s.clock(),
                s.json(), retries, steps);
        source = new SourceMigrations(s.host(), s.vms(), s.store(), peers, s.devices(), s.images(), s.keptLogs(),
                s.clock(), s.json(), workers, steps, sourceRecovery, s.roots(), s.streamTls());
        IncomingMigrations incoming = new IncomingMigrations(s.runtime(), s.vms(), s.store(), s.devices(),
                s.migrationAddress(), s.clock(), s.images(), s.imagesRoot(), s.roots(), s.streamTls());
        destination = new DestinationMigrations(incoming, s.runtime(), s.vms(), s.roots());
        destinationRecovery = new DestinationRecovery(s.runtime(), s.vms(), s.store(),
                new ImageStore(s.images(), s.imagesRoot(), s.migrationAddress()), s.clock());
    }

    public SourceMigrations source() {
        return source;
    }

    public DestinationMigrations destination() {
        return destination;
    }

    /** Settles, from the journal, the migrations this host was part of when it last stopped. */
    public void recoverAtStart() {
        destinationRecovery.recoverAtStart();
        sourceRecovery.recoverAtStart();
    }

    @Override
    public void close() {
        for (ExecutorService e : List.of(retries, workers, steps, peerIo)) {
            e.shutdownNow();
        }
        for (ExecutorService e : List.of(retries, workers, steps, peerIo)) {
            try {
                if (!e.awaitTermination(SHUTDOWN_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                    log.warn("migration threads did not stop within {} s; their journals say where they stood",
                            SHUTDOWN_GRACE.toSeconds());
                }
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Daemon threads named {@code ferry-<host>-<role>-<n>}, so a thread dump tells which agent and which part. */
    static ThreadFactory threads(String host, String role) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "ferry-" + host + "-" + role + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
