package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class JobLeasesTest {
    private final Clock clock = Clock.fixed(Instant.parse("2030-01-01T12:00:01Z"), ZoneOffset.UTC);
    private final JobLeases leases = new JobLeases(clock);

    @Test
    void acquire_whileHeld_isBusyNamingTheHolderAndSince() {
        try (JobLeases.Lease stop = leases.acquire("web1", "stop")) {
            assertThatThrownBy(() -> leases.acquire("web1", "pause"))
                    .isInstanceOf(AgentException.class)
                    .hasMessage("vm 'web1' is busy: stop in progress since 12:00:01")
                    .satisfies(e -> assertThat(((AgentException) e).kind()).isEqualTo(AgentException.Kind.BUSY));
        }
    }

    @Test
    void acquire_afterRelease_succeeds() {
        leases.acquire("web1", "stop").close();
        try (JobLeases.Lease again = leases.acquire("web1", "start")) {
            assertThat(leases.holder("web1")).get().extracting(JobLeases.Job::description).isEqualTo("start");
        }
        assertThat(leases.holder("web1")).isEmpty();
    }

    @Test
    void leasesOfDifferentVms_doNotBlockEachOther() {
        try (JobLeases.Lease a = leases.acquire("web1", "stop"); JobLeases.Lease b = leases.acquire("web2", "stop")) {
            assertThat(leases.holder("web2")).isPresent();
        }
    }

    @Test
    void closingAStaleLeaseTwice_doesNotReleaseTheNextHolder() {
        JobLeases.Lease first = leases.acquire("web1", "stop");
        first.close();
        try (JobLeases.Lease second = leases.acquire("web1", "migration to node2")) {
            first.close();
            assertThat(leases.holder("web1")).get().extracting(JobLeases.Job::description).isEqualTo("migration to node2");
        }
    }
}
