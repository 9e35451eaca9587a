package dev.ferry.agent;

import dev.ferry.agent.config.AgentConfig;
import dev.ferry.agent.store.StateRepair;
import dev.ferry.agent.store.StateStore;
import dev.ferry.agent.store.VmRecord;
import dev.ferry.migration.JournalEntry;
import dev.ferry.migration.JournalEvent;
import dev.ferry.migration.MigrationRecord;
import dev.ferry.migration.Phase;
import dev.ferry.migration.Result;
import dev.ferry.vm.QemuHost;
import dev.ferry.vm.RunDir;
import dev.ferry.vm.SpecException;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmSpecParser;
import dev.ferry.vm.VmState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code ferry agent repair}: makes the state database usable again without touching a process.
 * The database is replaced by its newest sound backup if damaged or missing ({@link StateRepair});
 * then every VM whose run directory names a live QEMU is recorded as running (from the spec in its
 * run directory), so the next agent reattaches to it; and every migration the database shows
 * unfinished is recorded as failed, because its journal may be older than what happened, and
 * recovering from a stale journal could stop a guest that runs. The lines it returns say all of it.
 */
final class AgentRepair {
    private final AgentConfig config;
    private final Clock clock;
    private final List<String> said = new ArrayList<>();

    AgentRepair(AgentConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
    }

    List<String> run() {
        Path db = config.databaseFile();
        StateRepair.Outcome outcome = StateRepair.restore(db, clock.instant());
        describe(db, outcome);
        try (StateStore store = StateStore.open(db)) {
            recordRunningVms(store, !outcome.untouched());
            if (!outcome.untouched()) {
                settleUnfinished(store);
            }
            store.backup();
        }
        said.add("done; start the agent as usual");
        return List.copyOf(said);
    }

    private void describe(Path db, StateRepair.Outcome o) {
        if (o.untouched()) {
            said.add("the state database " + db + " is sound; it was kept as it is");
            return;
        }
        if (o.damage() != null) {
            said.add("the state database was damaged (" + o.damage() + "); kept as " + o.keptAs());
        } else {
            said.add("the state database " + db + " was missing");
        }
        o.unsound().forEach(u -> said.add("backup skipped, damaged too: " + u));
        said.add(o.restoredFrom() != null ? "restored the backup " + o.restoredFrom()
                : "no sound backup: started an empty database");
    }

    /**
     * Records as running every VM with a live QEMU in its run directory; a VM the database knows
     * keeps its spec. Reads the run directories only.
     */
    private void recordRunningVms(StateStore store, boolean restored) {
        Map<String, Long> running = QemuHost.runningIn(config.runRoot());
        Instant now = clock.instant();
        for (Map.Entry<String, Long> vm : running.entrySet()) {
            String name = vm.getKey();
            Optional<VmRecord> known = store.findVm(name);
            if (known.isPresent()) {
                // In a restored database a migrating one too: its migration is settled as failed below,
                // and nothing else would move it on.
                VmState recorded = known.get().state();
                if (!recorded.hasProcess() || (restored && recorded == VmState.MIGRATING)) {
                    store.updateState(name, VmState.RUNNING, now);
                    said.add("vm '" + name + "' runs (QEMU pid " + vm.getValue() + "); recorded as running again");
                } else {
                    said.add("vm '" + name + "' runs (QEMU pid " + vm.getValue() + ") and is recorded");
                }
                continue;
            }
            Optional<VmSpec> spec = specOf(name);
            if (spec.isEmpty()) {
                continue;
            }
            VmSpec s = spec.get();
            store.insertVm(new VmRecord(name, s.uuid().toString(), s.toYaml(), "/", VmState.RUNNING, now));
            said.add("vm '" + name + "' runs (QEMU pid " + vm.getValue() + "); recorded again from its run directory");
        }
    }

    private Optional<VmSpec> specOf(String name) {
        Path file = RunDir.of(config.runRoot(), name).specFile();
        try {
            return Optional.of(VmSpecParser.parse(Files.readString(file), Path.of("/")));
        } catch (IOException | SpecException e) {
            said.add("vm '" + name + "' runs but " + file + " cannot be read (" + e.getMessage() + "); define it again"
                    + " with the spec it runs with ('ferry vm define'), and the agent reattaches to it");
            return Optional.empty();
        }
    }

    /** Records every unfinished migration as failed, naming the peer to look at. */
    private void settleUnfinished(StateStore store) {
        Instant now = clock.instant();
        for (MigrationRecord m : store.listMigrations()) {
            if (m.result() != null) {
                continue;
            }
            String detail = "settled by 'ferry agent repair': the state database was restored, so this migration's"
                    + " journal may be older than what happened";
            store.appendJournal(new JournalEntry(m.id(), m.vm(), m.role(), m.peer(), Phase.FAILED, null, null,
                    JournalEvent.RECOVERED, now, detail, null, false));
            store.saveMigration(m.ended(Result.FAILED, null, now));
            said.add("migration " + m.id() + " of vm '" + m.vm() + "' (" + m.role().wireName() + ", peer " + m.peer()
                    + ") was unfinished; recorded as failed. Check on " + m.peer() + " which host runs the VM");
        }
    }
}
