package dev.ferry.agent;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.ferry.migration.Destination;
import dev.ferry.migration.IncomingMigrations;
import dev.ferry.migration.IncomingRequest;
import dev.ferry.migration.MigrationException;
import dev.ferry.migration.MigrationReport.Blocker;
import dev.ferry.migration.SaveFile;
import dev.ferry.vm.SpecException;
import dev.ferry.vm.VmException;
import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmSpecParser;
import dev.ferry.vm.VmState;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This host as a migration's destination (the peer endpoints) and as the place a saved VM is
 * restored. Ownership is written to the state store before the guest resumes here.
 */
final class DestinationMigrations implements IncomingMigrations.Host {
    private static final Logger log = LoggerFactory.getLogger(DestinationMigrations.class);
    private static final Duration RECEIVE_LIMIT = Duration.ofMinutes(10);
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private final VmTable vms;
    private final JobLeases leases;
    private final HostResources resources;
    private final Clock clock;
    private IncomingMigrations incoming;

    DestinationMigrations(VmTable vms, JobLeases leases, HostResources resources, Clock clock) {
        this.vms = vms;
        this.leases = leases;
        this.resources = resources;
        this.clock = clock;
    }

    void use(IncomingMigrations incoming) {
        this.incoming = incoming;
    }

    /** The peer's check. */
    record CheckReply(List<Blocker> blockers) {}

    CheckReply check(IncomingRequest r) {
        return new CheckReply(incoming.check(r));
    }

    Destination.Prepared prepare(IncomingRequest r) {
        try {
            Destination.Prepared prepared = incoming.prepare(r);
            record(r, null);
            return prepared;
        } catch (MigrationException e) {
            if (e.getCause() instanceof SpecException) {
                throw new AgentException(AgentException.Kind.INVALID_SPEC, e.getMessage(), e);
            }
            throw new AgentException(AgentException.Kind.FAILED, e.getMessage(), e);
        }
    }

    Destination.Switchover switchover(IncomingRequest r) {
        try {
            Destination.Switchover sw = incoming.switchover(r.migrationId(), RECEIVE_LIMIT);
            String vm = vmName(r);
            if (vms.record(vm).state() == VmState.MIGRATING) {
                vms.move(vm, VmState.RUNNING);
            }
            record(r, "completed");
            return sw;
        } catch (Destination.NotTakenException e) {
            record(r, "rolled-back");
            throw new AgentException(AgentException.Kind.NOT_TAKEN, e.getMessage(), e);
        } catch (MigrationException e) {
            throw new AgentException(AgentException.Kind.FAILED, e.getMessage(), e);
        }
    }

    void abort(IncomingRequest r) {
        try {
            incoming.abort(r.migrationId());
            record(r, "rolled-back");
        } catch (MigrationException e) {
            throw new AgentException(AgentException.Kind.CONFLICT, e.getMessage(), e);
        }
    }

    /** What this host knows of the migration, live or from its record (the peer endpoint). */
    IncomingMigrations.Ownership currentOwnership(String migrationId) {
        return incoming.ownership(migrationId);
    }

    /** From the store: a VM recorded here for this migration is owned (ownership is written before resume). */
    @Override
    public IncomingMigrations.Ownership ownership(String migrationId) {
        var m = vms.store().findMigration(migrationId);
        if (m.isEmpty() || m.get().role() != JournalEntry.Role.DESTINATION) {
            return IncomingMigrations.Ownership.UNKNOWN;
        }
        if ("completed".equals(m.get().result())) {
            return IncomingMigrations.Ownership.OWNED;
        }
        if (m.get().result() != null) {
            return IncomingMigrations.Ownership.ABORTED;
        }
        return vms.store().findVm(m.get().vm()).isPresent() ? IncomingMigrations.Ownership.OWNED
                : IncomingMigrations.Ownership.PREPARED;
    }

    /**
     * After a restart: settles the incoming migrations this host was in the middle of. A VM whose
     * ownership was recorded is this host's: it is resumed. Any other incoming VM is torn down;
     * its source, asking later, hears that it was not taken and rolls back.
     */
    void recoverAtStart(dev.ferry.vm.VmHost vmHost, java.nio.file.Path imagesRoot) {
        for (MigrationRecord m : vms.store().listMigrations()) {
            if (m.role() != JournalEntry.Role.DESTINATION || m.result() != null) {
                continue;
            }
            var owned = vms.store().findVm(m.vm());
            if (owned.isPresent()) {
                finishOwned(m, owned.get());
            } else {
                tearDown(m, vmHost, imagesRoot);
            }
        }
    }

    private void finishOwned(MigrationRecord m, VmRecord vm) {
        var handle = vms.handle(vm.name());
        String result;
        if (handle.isPresent() && handle.get().isAlive()) {
            try {
                handle.get().resume();
                if (vm.state() != VmState.RUNNING) {
                    vms.move(vm.name(), VmState.RUNNING);
                }
                result = "completed";
            } catch (VmException e) {
                log.error("vm '{}' is owned here (migration {}) but did not resume: {}", vm.name(), m.id(), e.getMessage());
                result = "failed";
            }
        } else {
            vms.move(vm.name(), VmState.CRASHED);
            result = "failed";
        }
        log.warn("migration {}: vm '{}' was taken by this host before it restarted; {}", m.id(), vm.name(), result);
        save(m, result);
    }

    private void tearDown(MigrationRecord m, dev.ferry.vm.VmHost vmHost, java.nio.file.Path imagesRoot) {
        try {
            var left = vmHost.reattach(m.vm());
            if (left.isPresent()) {
                left.get().destroy();
            } else {
                vmHost.cleanUp(m.vm());
            }
        } catch (VmException e) {
            log.error("migration {}: cannot tear down the incoming vm '{}': {}", m.id(), m.vm(), e.getMessage());
        }
        deleteTree(imagesRoot.resolve(m.vm()));
        log.warn("migration {}: incoming vm '{}' was not taken before this agent restarted; torn down", m.id(), m.vm());
        save(m, "rolled-back");
    }

    private void save(MigrationRecord m, String result) {
        vms.store().saveMigration(new MigrationRecord(m.id(), m.vm(), m.role(), m.peer(), m.mode(), result, null,
                m.startedAt(), clock.instant()));
        vms.store().appendJournal(new JournalEntry(m.id(), m.vm(), m.role(), m.peer(),
                result.equals("completed") ? "completed" : "rolled-back", null, null, "recovered", clock.instant(),
                "settled after the agent restarted"));
    }

    private static void deleteTree(java.nio.file.Path dir) {
        if (!java.nio.file.Files.exists(dir)) {
            return;
        }
        try (var walk = java.nio.file.Files.walk(dir)) {
            for (var p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                java.nio.file.Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            log.warn("cannot remove {}: {}", dir, e.getMessage());
        }
    }

    @Override
    public List<String> admissionBlockers(VmSpec spec) {
        List<String> blockers = new ArrayList<>();
        if (vms.store().findVm(spec.name()).isPresent()) {
            blockers.add("a VM named '" + spec.name() + "' is already defined on this host; undefine it here first");
        }
        long free = resources.memoryAvailableMiB();
        if (free < spec.memoryMiB()) {
            blockers.add("this host has " + free + " MiB of memory available and the VM needs " + spec.memoryMiB() + " MiB");
        }
        return blockers;
    }

    @Override
    public void takeOwnership(String migrationId, VmSpec spec, VmHandle handle) {
        vms.added(new VmRecord(spec.name(), spec.uuid().toString(), spec.toYaml(), "/", VmState.MIGRATING, clock.instant()));
        vms.attach(handle);
        log.info("vm '{}' now belongs to this host (migration {})", spec.name(), migrationId);
    }

    /** Brings back a VM saved to {@code r.file()}; it ends running here. Returns its name. */
    String restore(RestoreRequest r) {
        if (r.file() == null || !Path.of(r.file()).isAbsolute()) {
            throw new AgentException(AgentException.Kind.INVALID, "file: give the absolute path of a file 'ferry save' wrote");
        }
        Path file = Path.of(r.file());
        SaveFile.Contents saved;
        VmSpec spec;
        try {
            saved = SaveFile.read(file);
            spec = VmSpecParser.parse(saved.spec(), Path.of("/"));
        } catch (java.nio.file.NoSuchFileException e) {
            throw new AgentException(AgentException.Kind.INVALID, "file: " + file + " does not exist on this host", e);
        } catch (IOException e) {
            throw new AgentException(AgentException.Kind.INVALID, "file: " + e.getMessage(), e);
        } catch (SpecException e) {
            throw new AgentException(AgentException.Kind.INVALID_SPEC, "the saved VM's spec is not valid on this host: "
                    + e.getMessage(), e);
        }
        String name = spec.name();
        try (JobLeases.Lease lease = leases.acquire(name, "restore from " + file)) {
            var existing = vms.store().findVm(name);
            if (existing.isPresent() && existing.get().state().hasProcess()) {
                throw new AgentException(AgentException.Kind.CONFLICT, "vm '" + name + "' is "
                        + existing.get().state().wireName() + " here; stop it before restoring it from " + file);
            }
            if (existing.isEmpty()) {
                vms.added(new VmRecord(name, spec.uuid().toString(), spec.toYaml(), "/", VmState.DEFINED, clock.instant()));
            }
            vms.move(name, VmState.STARTING);
            VmHandle handle;
            try {
                handle = incoming.restore(spec, file, saved.streamOffset(), RECEIVE_LIMIT);
            } catch (MigrationException e) {
                vms.move(name, VmState.CRASHED);
                throw new AgentException(AgentException.Kind.FAILED, e.getMessage(), e);
            }
            vms.attach(handle);
            try {
                handle.resume();
            } catch (VmException e) {
                vms.move(name, VmState.PAUSED);
                throw new AgentException(AgentException.Kind.FAILED, "vm '" + name + "' restored but did not resume: "
                        + e.getMessage(), e);
            }
            vms.move(name, VmState.RUNNING);
            log.info("vm '{}' restored from {}", name, file);
            return name;
        }
    }

    /** Records the migration in the history; only prepare creates a record, later calls only update one. */
    private void record(IncomingRequest r, String result) {
        if (result != null && vms.store().findMigration(r.migrationId()).isEmpty()) {
            return; // a switchover or abort of a migration this host never prepared leaves no trace
        }
        String vm = vmName(r);
        vms.store().saveMigration(new MigrationRecord(r.migrationId(), vm, JournalEntry.Role.DESTINATION, r.sourceHost(),
                r.mode(), result, null, clock.instant(), clock.instant()));
    }

    private static String vmName(IncomingRequest r) {
        return vmName(r.spec());
    }

    /** The VM's name from a spec, for the journal, before the spec is validated. */
    static String vmName(String spec) {
        try {
            String name = YAML.readTree(spec).path("name").asText();
            return name.isEmpty() ? "unknown" : name;
        } catch (IOException e) {
            return "unknown";
        }
    }
}
