package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.agent.api.DefineVmRequest;
import dev.ferry.agent.config.AgentConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TwoAgentsTest {
    @TempDir
    Path dir;
    private Agent one;
    private Agent two;

    @AfterEach
    void tearDown() {
        if (one != null) {
            one.close();
        }
        if (two != null) {
            two.close();
        }
    }

    @Test
    void twoAgents_sideBySide_haveTheirOwnPortsDataAndVms() throws Exception {
        one = Agent.start(TestAgents.config(dir.resolve("one"), "node1"),
                TestAgents.parts(new FakeVmHost(dir.resolve("one/run")), Clock.systemUTC()));
        two = Agent.start(TestAgents.config(dir.resolve("two"), "node2"),
                TestAgents.parts(new FakeVmHost(dir.resolve("two/run")), Clock.systemUTC()));

        assertThat(one.port()).isNotEqualTo(two.port());
        assertThat(Files.readString(dir.resolve("one/agent.port")).strip()).isEqualTo(String.valueOf(one.port()));
        assertThat(Files.readString(dir.resolve("two/agent.port")).strip()).isEqualTo(String.valueOf(two.port()));

        one.service().define(new DefineVmRequest("name: web1\n", null));
        assertThat(one.service().list()).extracting(VmInfo::name).containsExactly("web1");
        assertThat(two.service().list()).isEmpty();
        assertThat(one.service().host().name()).isEqualTo("node1");
        assertThat(two.service().host().name()).isEqualTo("node2");
    }

    @Test
    void secondAgentOnTheSameDataDir_isRefusedNamingIt() {
        Path data = dir.resolve("shared");
        one = Agent.start(TestAgents.config(data, "node1"), TestAgents.parts(new FakeVmHost(data.resolve("run")), Clock.systemUTC()));

        assertThatThrownBy(() -> Agent.start(TestAgents.config(data, "node1"),
                TestAgents.parts(new FakeVmHost(data.resolve("run")), Clock.systemUTC())))
                .isInstanceOf(AgentStartException.class)
                .hasMessageContaining("another agent already uses the data directory " + data);
    }

    @Test
    void portInUse_failsAndReleasesTheDataDir() {
        one = Agent.start(TestAgents.config(dir.resolve("one"), "node1"),
                TestAgents.parts(new FakeVmHost(dir.resolve("one/run")), Clock.systemUTC()));
        AgentConfig clash = TestAgents.config(dir.resolve("two"), "node2").withPort(one.port());

        assertThatThrownBy(() -> Agent.start(clash, TestAgents.parts(new FakeVmHost(dir), Clock.systemUTC())))
                .isInstanceOf(AgentStartException.class)
                .hasMessageContaining("cannot listen on 127.0.0.1:" + one.port());

        two = Agent.start(TestAgents.config(dir.resolve("two"), "node2"),
                TestAgents.parts(new FakeVmHost(dir.resolve("two/run")), Clock.systemUTC()));
        assertThat(two.port()).isPositive();
    }
}
