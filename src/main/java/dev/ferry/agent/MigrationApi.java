package dev.ferry.agent;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.device.DeviceControllers;
import dev.ferry.device.DiskImages;
import dev.ferry.device.ToolRunner;
import dev.ferry.migration.IncomingMigrations;
import dev.ferry.proc.ProcessRunner;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Both sides of migrations on this host, wired in one place. */
record MigrationApi(SourceMigrations source, DestinationMigrations destination, SourceRecovery recovery) {

    static MigrationApi create(AgentConfig config, Agent.Parts parts, VmTable vms, JobLeases leases) {
        ObjectMapper json = ApiJson.lenient();
        ProcessRunner runner = new ProcessRunner();
        DeviceControllers devices = new DeviceControllers(ToolSpecs.of(config.tools()), new ToolRunner(runner));
        DiskImages images = new DiskImages(runner);
        ExecutorService workers = Executors.newCachedThreadPool(daemons("ferry-migration"));
        ExecutorService steps = Executors.newCachedThreadPool(daemons("ferry-device-step"));
        SourceMigrations source = new SourceMigrations(config, vms, leases, parts.specs(), devices, images, parts.clock(),
                json, workers, steps);
        DestinationMigrations destination = new DestinationMigrations(vms, leases, parts.resources(), parts.clock());
        destination.use(new IncomingMigrations(parts.vmHost(), destination,
                r -> new StoreJournal(vms.store(), DestinationMigrations.vmName(r.spec()), JournalEntry.Role.DESTINATION, r.sourceHost(), parts.clock()),
                devices, config.listen(), parts.clock(), images, config.dataDir().resolve("images")));
        ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(daemons("ferry-recovery"));
        SourceRecovery recovery = new SourceRecovery(config, vms, leases, parts.specs(), devices, parts.clock(), json, retries);
        return new MigrationApi(source, destination, recovery);
    }

    /** Settles, from the journal, the migrations this host was part of when it last stopped. */
    void recoverAtStart(AgentConfig config, Agent.Parts parts) {
        destination.recoverAtStart(parts.vmHost(), config.dataDir().resolve("images"));
        recovery.recoverAtStart();
    }

    private static ThreadFactory daemons(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
