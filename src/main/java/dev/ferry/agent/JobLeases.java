package dev.ferry.agent;

import java.time.Clock;
import java.time.Instant;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * One job per VM at a time. A lifecycle call or a migration takes the VM's lease for as long as it
 * acts; whoever comes second is told who holds it and since when, instead of waiting.
 */
public final class JobLeases {
    private static final DateTimeFormatter SINCE = DateTimeFormatter.ofPattern("HH:mm:ss");

    /** What holds a VM: a short description such as {@code stop} or {@code migration to node2}. */
    public record Job(String vm, String description, Instant since) {}

    private final Clock clock;
    private final ConcurrentMap<String, Lease> held = new ConcurrentHashMap<>();

    public JobLeases(Clock clock) {
        this.clock = clock;
    }

    /** Takes the VM's lease for {@code job}, or throws {@link AgentException.Kind#BUSY} naming the holder. */
    public Lease acquire(String vm, String job) {
        Lease mine = new Lease(new Job(vm, job, clock.instant()));
        Lease current = held.putIfAbsent(vm, mine);
        if (current != null) {
            Job j = current.job();
            String since = LocalTime.ofInstant(j.since(), clock.getZone()).truncatedTo(ChronoUnit.SECONDS).format(SINCE);
            throw new AgentException(AgentException.Kind.BUSY,
                    "vm '" + vm + "' is busy: " + j.description() + " in progress since " + since);
        }
        return mine;
    }

    /** The job holding the VM now, if any. */
    public Optional<Job> holder(String vm) {
        return Optional.ofNullable(held.get(vm)).map(Lease::job);
    }

    /** A held lease; closing it lets the next job in. Closing twice is harmless. */
    public final class Lease implements dev.ferry.migration.HostVms.Lease {
        private final Job job;

        private Lease(Job job) {
            this.job = job;
        }

        public Job job() {
            return job;
        }

        @Override
        public void close() {
            held.remove(job.vm(), this);
        }
    }
}
