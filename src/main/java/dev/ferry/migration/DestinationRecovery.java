package dev.ferry.migration;

import dev.ferry.device.disk.ImageStore;
import dev.ferry.vm.VmException;
import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmHost;
import dev.ferry.vm.VmState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * After a restart, settles the incoming migrations this host was in the middle of. The journal
 * is written before anything is made, so every one of them is found:
 *
 * <ul>
 *   <li>ownership journaled and the VM recorded here: the VM is this host's; it is resumed if it
 *       ran on the source (else left paused), and the migration completes; if it cannot be
 *       resumed the migration ends FAILED with the VM owned here, never "rolled back";</li>
 *   <li>anything else: the incoming QEMU, its swtpm and the copies of local disks are torn down and
 *       the migration ends ROLLED_BACK; its source, asking later, hears that it was not taken.</li>
 * </ul>
 */
public final class DestinationRecovery {
    private static final Logger log = LoggerFactory.getLogger(DestinationRecovery.class);

    private final VmHost runtime;
    private final HostVms vms;
    private final MigrationStore store;
    private final ImageStore images;
    private final Clock clock;

    public DestinationRecovery(VmHost runtime, HostVms vms, MigrationStore store, ImageStore images, Clock clock) {
        this.runtime = runtime;
        this.vms = vms;
        this.store = store;
        this.images = images;
        this.clock = clock;
    }

    public void recoverAtStart() {
        for (MigrationRecord m : store.listMigrations()) {
            if (m.role() == Role.DESTINATION && m.result() == null) {
                List<JournalEntry> journal = store.journal(m.id());
                boolean owned = vms.defined(m.vm()) && journal.stream()
                        .anyMatch(e -> e.event() == JournalEvent.ENTER && e.phase() == Phase.SWITCHOVER);
                if (owned) {
                    finishOwned(m, journal);
                } else {
                    tearDown(m);
                }
            }
        }
    }

    private void finishOwned(MigrationRecord m, List<JournalEntry> journal) {
        boolean wasRunning = journal.stream().filter(e -> e.guestWasRunning() != null).findFirst()
                .map(JournalEntry::guestWasRunning).orElse(true);
        Optional<VmHandle> handle = vms.handle(m.vm()).filter(VmHandle::isAlive);
        Result result;
        String detail;
        if (handle.isEmpty()) {
            move(m.vm(), VmState.CRASHED);
            result = Result.FAILED;
            detail = "owned here, but its QEMU was gone after the agent restarted";
        } else if (!wasRunning) {
            move(m.vm(), VmState.PAUSED);
            result = Result.COMPLETED;
            detail = "owned here; the guest was paused on the source and stays paused";
        } else {
            try {
                handle.get().resume();
                move(m.vm(), VmState.RUNNING);
                result = Result.COMPLETED;
                detail = "owned here; resumed after the agent restarted";
            } catch (VmException e) {
                move(m.vm(), VmState.PAUSED);
                result = Result.FAILED;
                detail = "owned here, but did not resume: " + e.getMessage() + "; resume it with 'ferry vm resume "
                        + m.vm() + "'";
            }
        }
        log.warn("migration {}: vm '{}' was taken by this host before it restarted; {}", m.id(), m.vm(), detail);
        end(m, result, detail);
    }

    private void move(String vm, VmState to) {
        if (vms.state(vm) != to) {
            vms.move(vm, to);
        }
    }

    private void tearDown(MigrationRecord m) {
        String detail = "not taken before this agent restarted; torn down";
        try {
            Optional<VmHandle> left = runtime.reattach(m.vm());
            if (left.isPresent()) {
                left.get().destroy();
            } else {
                runtime.cleanUp(m.vm());
            }
        } catch (VmException e) {
            detail = "cannot tear down the incoming vm: " + e.getMessage();
        }
        deleteTree(images.vmDir(m.vm()));
        log.warn("migration {}: incoming vm '{}' {}", m.id(), m.vm(), detail);
        end(m, Result.ROLLED_BACK, detail);
    }

    private void end(MigrationRecord m, Result result, String detail) {
        new Journal(store, m.id(), m.vm(), Role.DESTINATION, m.peer(), clock).recovered(result.finalPhase(), detail);
        store.saveMigration(m.ended(result, null, clock.instant()));
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            log.warn("cannot remove {}: {}", dir, e.getMessage());
        }
    }
}
