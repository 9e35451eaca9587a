package dev.ferry.migration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.device.DeviceControllers;
import dev.ferry.device.Mode;
import dev.ferry.device.QmpGuestControl;
import dev.ferry.device.ToolRunner;
import dev.ferry.device.disk.DiskImages;
import dev.ferry.lab.RecordingRelay;
import dev.ferry.lab.TestGuest;
import dev.ferry.pki.TestPki;
import dev.ferry.pki.TlsDir;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.vm.PathRoots;
import dev.ferry.vm.QemuHost;
import dev.ferry.vm.QemuTls;
import dev.ferry.vm.RunDir;
import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmSpecParser;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proof that TLS hides the guest: the test guest holds a marker in RAM (on its kernel command
 * line, which the kernel keeps in memory) and another on its local disk; a live migration runs through
 * one relay on QEMU's migration stream and one on the disk's NBD copy. In plain mode both markers pass
 * the relays; over TLS neither does, though the same streams went through them.
 */
class StreamEncryptionIT {
    private static final long DISK_MARKER_OFFSET = 32L * 1024 * 1024;

    @TempDir
    Path dir;

    private final ProcessRunner runner = new ProcessRunner();
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final MemoryVms destVms = new MemoryVms();
    private final List<VmHandle> handles = new ArrayList<>();
    private final List<RecordingRelay> relays = new ArrayList<>();
    private final String ramMarker = "FERRYRAM" + UUID.randomUUID().toString().replace("-", "");
    private final String diskMarker = "FERRYDISK" + UUID.randomUUID().toString().replace("-", "");
    private TestPki pki;
    private Path sourceCerts;
    private Path destCerts;

    @BeforeEach
    void certificates() throws Exception {
        pki = TestPki.in(dir.resolve("pki"));
        sourceCerts = pki.host("a", "a-pki");
        destCerts = pki.host("b", "b-pki");
    }

    @AfterEach
    void tearDown() throws Exception {
        for (VmHandle h : handles) {
            if (h.isAlive()) {
                h.destroy();
            }
        }
        for (VmHandle h : destVms.handles.values()) {
            if (h.isAlive()) {
                h.destroy();
            }
        }
        for (RecordingRelay r : relays) {
            r.close();
        }
        executor.shutdownNow();
    }

    @Test
    void plainStreams_carryTheGuestsRamAndDiskInClear() throws Exception {
        Relayed run = migrate("plain", false);

        assertThat(run.report.failure()).isNull();
        assertThat(run.ram.saw(ramMarker)).as("the RAM marker crossed the migration stream in clear").isTrue();
        assertThat(run.nbd.saw(diskMarker)).as("the disk marker crossed the NBD copy in clear").isTrue();
    }

    @Test
    void tlsStreams_neverShowTheMarkers_thoughTheSameStreamsPassedTheRelays() throws Exception {
        Relayed run = migrate("tls", true);

        assertThat(run.report.failure()).isNull();
        assertThat(run.report.result()).isEqualTo(Result.COMPLETED);
        assertThat(run.ram.bytes()).as("the migration stream went through its relay").isGreaterThan(1024 * 1024);
        assertThat(run.nbd.bytes()).as("the disk copy went through its relay").isGreaterThan(4096);
        for (RecordingRelay relay : List.of(run.ram, run.nbd)) {
            assertThat(relay.saw(ramMarker)).as("RAM marker in a TLS stream").isFalse();
            assertThat(relay.saw(diskMarker)).as("disk marker in a TLS stream").isFalse();
        }
    }

    private record Relayed(MigrationReport report, RecordingRelay ram, RecordingRelay nbd) {}

    private Relayed migrate(String name, boolean tls) throws Exception {
        Path qemu = Path.of("/usr/bin/qemu-system-x86_64");
        Path swtpm = Path.of("/usr/bin/swtpm");
        QemuHost sourceHost = new QemuHost(Files.createDirectories(dir.resolve("a")), qemu, swtpm, runner);
        QemuHost destHost = new QemuHost(Files.createDirectories(dir.resolve("b")), qemu, swtpm, runner);
        Path disk = markedDisk(dir.resolve(name + ".raw"));
        String cmdline = TestGuest.artifacts().kernelCmdline();
        String yaml = TestGuest.named(name).disk(disk).diskFormat("raw").localDisk().withoutTpm().yaml()
                .replace(cmdline, cmdline + " ferry_marker=" + ramMarker);
        VmSpec spec = VmSpecParser.parse(yaml, dir);
        VmHandle source = sourceHost.start(spec);
        handles.add(source);
        TestGuest.awaitBooted(new RunDir(source.runDir()).serialLog(), false, 3);

        QemuTls.Peer peer = tls ? new QemuTls.Peer(QemuTls.CREDS, "127.0.0.1") : null;
        DeviceControllers controllers = new DeviceControllers(Map.of(), new ToolRunner(runner));
        List<MigrationPlan.Unit> units = controllers.bind(spec, new QmpGuestControl(source.qmp())).stream()
                .map(b -> new MigrationPlan.Unit(b.ref(), b.controller())).toList();
        MigrationPlan plan = new MigrationPlan("m-" + name, spec.name(), spec.uuid().toString(), "a", Mode.LIVE, "b",
                units, MigrationParams.defaults(), peer);
        QmpSourceQemu stream = new QmpSourceQemu(spec.name(), source.qmp(), Clock.systemUTC(), source::close)
                .withTls(tls ? new QemuTls(sourceCerts) : null, peer);
        PathRoots roots = PathRoots.of(dir.resolve("data"), List.of(dir), List.of(TestGuest.artifacts().kernel()
                .getParent()), List.of(dir), List.of());
        IncomingMigrations incoming = new IncomingMigrations(destHost, destVms, new MemoryStore(), controllers,
                "127.0.0.1", Clock.systemUTC(), new DiskImages(runner), dir.resolve("b-images"), roots,
                tls ? new QemuTls(destCerts) : null);
        PeerProtocol.Request request = new PeerProtocol.Request(PeerProtocol.VERSION, plan.id(), "a", spec.toYaml(),
                "live", Map.of("data0", new DiskImages(runner).info(disk)), Map.of(), true);
        RelayedDestination dest = new RelayedDestination(incoming, request, tls ? subjectOf(sourceCerts) : null);

        MigrationReport report = new MigrationCoordinator(Clock.systemUTC(), executor)
                .migrate(plan, stream, dest, Journal.discarding(plan.id(), spec.name(), Clock.systemUTC()),
                        MigrationListener.NONE, new Cancellation());
        return new Relayed(report, dest.ram, dest.nbd);
    }

    /** A sparse raw disk with the disk marker written well past where the guest writes its records. */
    private Path markedDisk(Path path) throws Exception {
        assertThat(runner.run(Command.of("qemu-img", "create", "-q", "-f", "raw", path.toString(), "64M")).ok()).isTrue();
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
            f.seek(DISK_MARKER_OFFSET);
            f.write(diskMarker.getBytes(StandardCharsets.US_ASCII));
        }
        return path;
    }

    private static String subjectOf(Path certs) throws Exception {
        try (InputStream in = Files.newInputStream(new TlsDir(certs).clientCert())) {
            X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            return cert.getSubjectX500Principal().getName();
        }
    }

    /** The destination, prepared as the source host's peer call would, its addresses swapped for relays. */
    private final class RelayedDestination implements Destination {
        private final IncomingMigrations incoming;
        private final PeerProtocol.Request request;
        private final String sourceSubject;
        RecordingRelay ram;
        RecordingRelay nbd;

        RelayedDestination(IncomingMigrations incoming, PeerProtocol.Request request, String sourceSubject) {
            this.incoming = incoming;
            this.request = request;
            this.sourceSubject = sourceSubject;
        }

        @Override
        public List<MigrationReport.Blocker> check() {
            return incoming.check(request);
        }

        @Override
        public PeerProtocol.Prepared prepare() throws MigrationException {
            PeerProtocol.Prepared prepared = incoming.prepare(request, sourceSubject);
            try {
                ram = relay(Integer.parseInt(prepared.uri().substring(prepared.uri().lastIndexOf(':') + 1)));
                Map<String, String> endpoints = new LinkedHashMap<>();
                for (Map.Entry<String, String> e : prepared.endpoints().entrySet()) {
                    java.net.URI uri = java.net.URI.create(e.getValue());
                    nbd = relay(uri.getPort());
                    endpoints.put(e.getKey(), "nbd://127.0.0.1:" + nbd.port() + uri.getPath());
                }
                return new PeerProtocol.Prepared("tcp:127.0.0.1:" + ram.port(), endpoints, prepared.qemuPid());
            } catch (java.io.IOException e) {
                throw new MigrationException("cannot start the relays: " + e.getMessage(), e);
            }
        }

        private RecordingRelay relay(int port) throws java.io.IOException {
            RecordingRelay relay = RecordingRelay.start(port, List.of(ramMarker, diskMarker));
            relays.add(relay);
            return relay;
        }

        @Override
        public PeerProtocol.Switchover switchover() throws MigrationException {
            return incoming.switchover(request.migrationId(), Duration.ofSeconds(60));
        }

        @Override
        public void abort() throws MigrationException {
            incoming.abort(request.migrationId());
        }
    }
}
