package dev.ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.agent.Agent;
import dev.ferry.agent.FakeSpecs;
import dev.ferry.agent.FakeVmHost;
import dev.ferry.agent.TestAgents;
import dev.ferry.agent.api.ApiJson;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command line against an agent running in this JVM with a fake VM host. */
class MainTest {
    @TempDir
    Path dir;
    private Agent agent;
    private final List<Path> baseDirs = new CopyOnWriteArrayList<>();

    record Run(int exit, String out, String err) {}

    @BeforeEach
    void setUp() {
        FakeSpecs specs = new FakeSpecs();
        agent = Agent.start(TestAgents.config(dir.resolve("data"), "node1"),
                TestAgents.parts(new FakeVmHost(dir.resolve("data/run")), Clock.systemUTC(), (yaml, baseDir) -> {
                    baseDirs.add(baseDir);
                    return specs.read(yaml, baseDir);
                }));
    }

    @AfterEach
    void tearDown() {
        agent.close();
    }

    private Run ferry(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(args, env, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(exit, out.toString(), err.toString());
    }

    /** Runs against the test agent through FERRY_AGENT, as a user with that variable set would. */
    private Run ferry(String... args) {
        return ferry(Map.of("FERRY_AGENT", agent.url().toString()), args);
    }

    private Path spec(String name) throws Exception {
        Path specs = Files.createDirectories(dir.resolve("specs"));
        return Files.writeString(specs.resolve(name + ".yaml"), "name: " + name + "\nmemory: 256\n");
    }

    @Test
    void define_sendsTheSpecWithItsDirectory() throws Exception {
        Run r = ferry("vm", "define", spec("web1").toString());

        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("vm 'web1' defined (uuid ");
        assertThat(baseDirs).last().isEqualTo(dir.resolve("specs").toAbsolutePath());
    }

    @Test
    void lifecycleCommands_printTheNewState() throws Exception {
        ferry("vm", "define", spec("web1").toString());

        assertThat(ferry("vm", "start", "web1").out()).isEqualTo("vm 'web1' is running\n");
        assertThat(ferry("vm", "pause", "web1").out()).isEqualTo("vm 'web1' is paused\n");
        assertThat(ferry("vm", "resume", "web1").out()).isEqualTo("vm 'web1' is running\n");
        assertThat(ferry("vm", "stop", "web1").out()).isEqualTo("vm 'web1' is stopped\n");
        assertThat(ferry("vm", "start", "web1").exit()).isZero();
        assertThat(ferry("vm", "destroy", "web1").out()).isEqualTo("vm 'web1' is stopped\n");
        assertThat(ferry("vm", "undefine", "web1").out()).isEqualTo("vm 'web1' undefined\n");
        assertThat(ferry("vm", "list").out().lines()).hasSize(1);
    }

    @Test
    void list_printsATableWithOneRowPerVm() throws Exception {
        ferry("vm", "define", spec("web1").toString());
        ferry("vm", "define", spec("db1").toString());
        ferry("vm", "start", "web1");

        List<String> lines = ferry("vm", "list").out().lines().toList();

        assertThat(lines.get(0)).matches("NAME +STATE +PID +JOB +UPDATED +UUID");
        assertThat(lines.get(1)).matches("db1 +defined +- +- .*");
        assertThat(lines.get(2)).matches("web1 +running +\\d+ +- .*");
    }

    @Test
    void list_json_printsTheApisAnswer() throws Exception {
        ferry("vm", "define", spec("web1").toString());

        Run r = ferry("vm", "list", "--json");

        JsonNode json = ApiJson.lenient().readTree(r.out());
        assertThat(json.path("vms").get(0).path("name").asText()).isEqualTo("web1");
        assertThat(json.path("vms").get(0).path("state").asText()).isEqualTo("defined");
    }

    @Test
    void show_printsFieldsAndTheSpec() throws Exception {
        ferry("vm", "define", spec("web1").toString());

        String out = ferry("vm", "show", "web1").out();

        String stored = dev.ferry.agent.FakeSpecs.spec("web1").toYaml().indent(2);
        assertThat(out).containsPattern("state +defined").contains("spec:\n" + stored);
    }

    @Test
    void hostInfo_printsVersionsAndResources() {
        Run r = ferry("host", "info");

        assertThat(r.out()).containsPattern("host +node1").containsPattern("qemu +8.2.2")
                .containsPattern("swtpm +0.7.3").containsPattern("cpus +8 \\(8 vCPUs free\\)");
        assertThat(ferry("host", "info", "--json").out()).contains("\"qemuVersion\":\"8.2.2\"");
    }

    @Test
    void agentError_isOneLineOnStderrWithExit1() {
        Run r = ferry("vm", "show", "ghost");

        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("ferry: vm 'ghost' not found\n");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void illegalTransition_isExit1WithTheAgentsMessage() throws Exception {
        ferry("vm", "define", spec("web1").toString());

        Run r = ferry("vm", "pause", "web1");

        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("ferry: vm 'web1': cannot go from defined to paused\n");
    }

    @Test
    void debug_addsTheStackTrace() {
        Run r = ferry("vm", "show", "ghost", "--debug");

        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).startsWith("ferry: vm 'ghost' not found\n").contains("\tat ");
    }

    @Test
    void usageErrors_exit2() {
        Run missingName = ferry("vm", "start");
        assertThat(missingName.exit()).isEqualTo(2);
        assertThat(missingName.err()).startsWith("ferry: Missing required parameter: 'NAME'").contains("Try 'ferry vm start --help'.");

        assertThat(ferry("vm", "frobnicate").exit()).isEqualTo(2);
        Run bare = ferry();
        assertThat(bare.exit()).isEqualTo(2);
        assertThat(bare.err()).contains("Commands:", "agent", "vm", "host");
        Run vm = ferry("vm");
        assertThat(vm.exit()).isEqualTo(2);
        assertThat(vm.err()).contains("define", "undefine");
    }

    @Test
    void define_missingFile_isAUsageError() {
        Run r = ferry("vm", "define", dir.resolve("nope.yaml").toString());

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("ferry: cannot read spec file '" + dir.resolve("nope.yaml") + "': no such file\n");
    }

    @Test
    void unreachableAgent_exits3AndSaysHowToStartOne() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        String url = "http://127.0.0.1:" + closedPort;

        Run r = ferry(Map.of(), "vm", "list", "--agent", url);

        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.err()).isEqualTo("ferry: cannot reach the agent at " + url
                + ": connection refused; start one with 'ferry agent --config FILE' or pass --agent\n");
    }

    @Test
    void agentUrl_optionWinsOverTheEnvironment() {
        Run r = ferry(Map.of("FERRY_AGENT", "http://127.0.0.1:1"), "host", "info", "--agent", agent.url().toString());
        assertThat(r.exit()).as(r.err()).isZero();
    }

    @Test
    void agentUrl_notAUrl_isAUsageError() {
        Run r = ferry(Map.of(), "host", "info", "--agent", "node1:7780");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--agent: 'node1:7780' is not an agent URL");
    }

    @Test
    void agentCommand_badConfig_isAUsageErrorNamingTheField() throws Exception {
        Path cfg = Files.writeString(dir.resolve("agent.yaml"), "host: n\ndataDir: d\nprot: 1\n");
        Run r = ferry("agent", "--config", cfg.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("ferry: " + cfg + ": prot: unknown key 'prot'");
    }

    @Test
    void agentCommand_withoutConfig_isAUsageError() {
        Run r = ferry("agent");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("ferry: missing --config FILE");
    }

    @Test
    void agentRepair_soundState_keepsItAndSaysSo() throws Exception {
        Path cfg = Files.writeString(dir.resolve("repair.yaml"), "host: n\ndataDir: repair-data\n");
        Run first = ferry("agent", "repair", "--config", cfg.toString());
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.out()).contains("the state database " + dir.resolve("repair-data").resolve("ferry.db") + " was missing",
                "no sound backup: started an empty database", "done; start the agent as usual");

        Run again = ferry("agent", "repair", "--config", cfg.toString());
        assertThat(again.exit()).as(again.err()).isZero();
        assertThat(again.out()).contains("is sound; it was kept as it is");
    }

    @Test
    void rootHelp_listsTheCommands() {
        Run r = ferry("--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("agent", "vm", "host");
    }

    @Test
    void everyCommand_hasADescriptionAndHelp() {
        assertDescribed(Main.commandLine(new CliEnv(Map.of())));
    }

    private static void assertDescribed(CommandLine cl) {
        assertThat(cl.getCommandSpec().usageMessage().description())
                .as(cl.getCommandSpec().qualifiedName()).isNotEmpty();
        assertThat(cl.getCommandSpec().mixinStandardHelpOptions())
                .as(cl.getCommandSpec().qualifiedName()).isTrue();
        cl.getSubcommands().values().forEach(MainTest::assertDescribed);
    }
}
