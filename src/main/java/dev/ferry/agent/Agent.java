package dev.ferry.agent;

import dev.ferry.agent.api.ApiJson;
import dev.ferry.agent.api.HttpApi;
import dev.ferry.agent.config.AgentConfig;
import dev.ferry.agent.config.ToolSpecs;
import dev.ferry.agent.store.StateStore;
import dev.ferry.device.DeviceControllers;
import dev.ferry.device.ToolRunner;
import dev.ferry.device.disk.DiskImages;
import dev.ferry.migration.Migrations;
import dev.ferry.vm.QemuTls;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.vm.PathRoots;
import dev.ferry.vm.QemuHost;
import dev.ferry.vm.VmHost;
import dev.ferry.vm.VmSpecParser;
import io.javalin.Javalin;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One host's agent: state store, VM runtime, HTTP API. {@link #start} brings it up (lock the data
 * directory, open the store, reattach to VMs that outlived the previous agent, serve the API,
 * write the port file); {@link #close} takes it down and leaves every VM running.
 */
public final class Agent implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Agent.class);

    /** How often the agent looks for VMs whose QEMU exited on its own. */
    static final long EXIT_CHECK_SECONDS = 2;

    /**
     * What the agent is built from besides its configuration. {@link #production} is the one place
     * where the real runtime is chosen; tests pass fakes.
     */
    public record Parts(VmHost vmHost, VersionProbe versions, SpecReader specs, HostResources resources, Clock clock) {
        public Parts {
            Objects.requireNonNull(vmHost, "vmHost");
            Objects.requireNonNull(versions, "versions");
            Objects.requireNonNull(specs, "specs");
            Objects.requireNonNull(resources, "resources");
            Objects.requireNonNull(clock, "clock");
        }

        public static Parts production(AgentConfig config) {
            ProcessRunner runner = new ProcessRunner();
            VmHost vmHost = new QemuHost(config.runRoot(), config.qemu(), config.swtpm(), runner, config.accel());
            return new Parts(vmHost, VersionProbe.running(runner), VmSpecParser::parse, HostResources.ofThisMachine(),
                    Clock.systemDefaultZone());
        }
    }

    private final AgentConfig config;
    private final DataDirLock lock;
    private final StateStore store;
    private final EventBus events;
    private final AgentService service;
    private final Javalin http;
    private final ScheduledExecutorService watcher;
    private final VmTable vms;
    private final Migrations migrations;

    private Agent(AgentConfig config, DataDirLock lock, StateStore store, EventBus events, VmTable vms,
                  AgentService service, Javalin http, Migrations migrations, ScheduledExecutorService watcher) {
        this.migrations = migrations;
        this.config = config;
        this.lock = lock;
        this.store = store;
        this.events = events;
        this.vms = vms;
        this.service = service;
        this.http = http;
        this.watcher = watcher;
    }

    /** Starts the agent with the production runtime. */
    public static Agent start(AgentConfig config) {
        return start(config, Parts.production(config));
    }

    public static Agent start(AgentConfig config, Parts parts) {
        requirePortFree(config);
        AgentTls tls = AgentTls.load(config);
        DataDirLock lock = DataDirLock.acquire(config.dataDir());
        StateStore.extractNativeLibraryInto(config.dataDir().resolve("lib"), System.getProperties());
        StateStore store = null;
        Javalin http = null;
        Migrations migrations = null;
        try {
            requireStateForRunDirectories(config);
            prepareRoots(config);
            store = StateStore.open(config.databaseFile());
            store.backup();
            EventBus events = new EventBus();
            VmTable vms = new VmTable(store, events, parts.clock());
            JobLeases leases = new JobLeases(parts.clock());
            Reconciler reconciler = new Reconciler(vms, parts.vmHost(), leases);
            reconciler.atStart();
            HostFacts host = HostFacts.probe(config, parts.versions(), parts.resources());
            AgentService service = new AgentService(vms, parts.vmHost(), leases, parts.specs(), config.dataDir(),
                    parts.clock(), host, config.roots());
            migrations = migrations(config, parts, vms, leases, store, tls);
            migrations.recoverAtStart();
            http = HttpApi.serve(service, migrations, events, config.listen(), config.port(),
                    tls == null ? null : tls.api());
            writePortFile(config.portFile(), http.port());
            Agent agent = new Agent(config, lock, store, events, vms, service, http, migrations,
                    exitChecks(config.host(), reconciler));
            log.info("agent '{}' listening on {} (data in {}, qemu {}, swtpm {})", config.host(), agent.url(),
                    config.dataDir(), host.qemuVersion(), host.swtpmVersion());
            return agent;
        } catch (RuntimeException e) {
            if (http != null) {
                http.stop();
            }
            if (migrations != null) {
                migrations.close();
            }
            if (store != null) {
                store.close();
            }
            lock.close();
            throw e;
        }
    }

    /**
     * Refuses to start on a missing state database while VMs' run directories exist: an empty
     * database would forget VMs that run, and the next start of one of them would find it running.
     */
    private static void requireStateForRunDirectories(AgentConfig config) {
        Path db = config.databaseFile();
        if (!Files.isDirectory(config.runRoot()) || sizeOf(db) > 0) {
            return;
        }
        List<String> dirs;
        try (Stream<Path> list = Files.list(config.runRoot())) {
            dirs = list.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new AgentStartException("cannot list the run directories in " + config.runRoot() + ": " + e.getMessage(), e);
        }
        if (dirs.isEmpty()) {
            return;
        }
        Map<String, Long> running = QemuHost.runningIn(config.runRoot());
        throw new AgentStartException("the state database " + db + " is missing (or empty), but " + config.runRoot()
                + " holds run directories of " + dirs + (running.isEmpty() ? "" : " (running: " + running + ")")
                + "; the agent did not start and touched no VM. Recover with 'ferry agent repair --config <this agent's"
                + " configuration>': it restores the newest backup of the database and records again every VM it finds"
                + " running in the run directories");
    }

    /**
     * Makes the saves directory every agent has, so that a save into {@code <dataDir>/saves} works out
     * of the box, and says which roots do not exist yet: they hold nothing until they do.
     */
    private static void prepareRoots(AgentConfig config) {
        Path saves = PathRoots.savesDir(config.dataDir());
        try {
            Files.createDirectories(saves);
        } catch (IOException e) {
            throw new AgentStartException("cannot create " + saves + ": " + e.getMessage() + "; check dataDir's"
                    + " permissions", e);
        }
        PathRoots roots = config.roots();
        Map<String, List<Path>> named = Map.of("storage", roots.storage(), "boot", roots.boot(), "saves", roots.saves(),
                "blockDevices", roots.blockDevices());
        named.forEach((key, paths) -> paths.stream()
                .filter(p -> !Files.exists(p) && !p.equals(PathRoots.imagesDir(config.dataDir())))
                .forEach(p -> log.warn("{} lists {}, which does not exist: VMs can use nothing there until it does",
                        key, p)));
        log.info("VMs may use {}", roots);
    }

    /** The size of {@code file}; 0 when it does not exist. */
    private static long sizeOf(Path file) {
        try {
            return Files.exists(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            throw new AgentStartException("cannot read " + file + ": " + e.getMessage() + "; check the data directory's"
                    + " permissions", e);
        }
    }

    /**
     * {@code ferry agent repair}: the state database made usable again (see {@link AgentRepair}), with
     * the data directory locked so that no agent runs meanwhile. Returns what it did, line by line.
     */
    public static List<String> repair(AgentConfig config, Clock clock) {
        try (DataDirLock lock = DataDirLock.acquire(config.dataDir())) {
            StateStore.extractNativeLibraryInto(config.dataDir().resolve("lib"), System.getProperties());
            return new AgentRepair(config, clock).run();
        }
    }

    /** Both sides of migrations on this host, with the real tools, disks and runtime. */
    private static Migrations migrations(AgentConfig config, Parts parts, VmTable vms, JobLeases leases,
                                         StateStore store, AgentTls tls) {
        ProcessRunner runner = new ProcessRunner();
        return new Migrations(new Migrations.Setup(config.host(), config.peers(), config.listen(),
                config.dataDir().resolve("images"), config.dataDir().resolve("logs"),
                new DeviceControllers(ToolSpecs.of(config.tools()), new ToolRunner(runner)), new DiskImages(runner),
                parts.vmHost(), new AgentVms(vms, leases, parts.specs(), parts.resources()), store, parts.clock(),
                ApiJson.lenient(), config.roots(), tls == null ? null : tls.peers(),
                config.tls().map(QemuTls::new).orElse(null)));
    }

    /**
     * Says plainly when the port is taken, before the state is opened and VMs are reattached;
     * the HTTP server's own bind error is less clear and slow to unwind.
     */
    private static void requirePortFree(AgentConfig config) {
        if (config.port() == 0) {
            return;
        }
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(config.listen(), config.port()));
        } catch (IOException e) {
            throw new AgentStartException("cannot listen on " + config.listen() + ":" + config.port() + ": "
                    + e.getMessage() + "; stop whatever uses that port, or set another port (0 picks a free one)", e);
        }
    }

    private static ScheduledExecutorService exitChecks(String host, Reconciler reconciler) {
        ScheduledExecutorService watcher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ferry-" + host + "-vm-exit-check");
            t.setDaemon(true);
            return t;
        });
        watcher.scheduleWithFixedDelay(() -> runQuietly(reconciler::checkExited),
                EXIT_CHECK_SECONDS, EXIT_CHECK_SECONDS, TimeUnit.SECONDS);
        return watcher;
    }

    private static void runQuietly(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            log.warn("checking for exited VMs failed: {}", e.toString());
        }
    }

    /** The port is written atomically, so a reader never sees half a number. */
    private static void writePortFile(Path file, int port) {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, port + "\n");
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new AgentStartException("cannot write " + file + ": " + e.getMessage() + "; check that dataDir is writable", e);
        }
    }

    public int port() {
        return http.port();
    }

    public URI url() {
        String host = config.listen().contains(":") ? "[" + config.listen() + "]" : config.listen();
        return URI.create((config.tls().isPresent() ? "https://" : "http://") + host + ":" + port());
    }

    public AgentConfig config() {
        return config;
    }

    public AgentService service() {
        return service;
    }

    public EventBus events() {
        return events;
    }

    /** Stops serving and lets go of every VM; the VMs keep running and a new agent can reattach. */
    @Override
    public void close() {
        // In order: no new requests, no exit checks, migrations' threads stopped, then the VMs let go and the store closed.
        http.stop();
        watcher.shutdownNow();
        migrations.close();
        vms.detachAll();
        store.close();
        try {
            Files.deleteIfExists(config.portFile());
        } catch (IOException e) {
            log.warn("cannot remove {}: {}", config.portFile(), e.getMessage());
        }
        lock.close();
        log.info("agent '{}' stopped; its VMs keep running", config.host());
    }

    /** Keeps a second agent off a data directory that one already uses. */
    private record DataDirLock(FileChannel channel, FileLock lock) implements AutoCloseable {
        static DataDirLock acquire(Path dataDir) {
            Path file = dataDir.resolve("agent.lock");
            FileChannel ch = null;
            try {
                Files.createDirectories(dataDir);
                ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock l = ch.tryLock();
                if (l == null) {
                    throw new OverlappingFileLockException();
                }
                return new DataDirLock(ch, l);
            } catch (OverlappingFileLockException e) {
                closeQuietly(ch);
                throw new AgentStartException("another agent already uses the data directory " + dataDir
                        + " (it holds " + file + "); stop that agent or give this one another dataDir");
            } catch (IOException e) {
                closeQuietly(ch);
                throw new AgentStartException("cannot use the data directory " + dataDir + ": " + e.getMessage()
                        + "; check dataDir in the configuration and its permissions", e);
            }
        }

        private static void closeQuietly(FileChannel ch) {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // Already failing with a better message.
                }
            }
        }

        @Override
        public void close() {
            try {
                lock.release();
                channel.close();
            } catch (IOException e) {
                log.warn("releasing the data directory lock failed: {}", e.getMessage());
            }
        }
    }
}
