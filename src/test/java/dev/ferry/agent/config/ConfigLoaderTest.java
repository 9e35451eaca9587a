package dev.ferry.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.device.StepSequence;
import dev.ferry.vm.Accelerator;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir
    Path dir;
    private ConfigLoader loader;

    @BeforeEach
    void setUp() throws IOException {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        executable(bin.resolve("qemu-system-x86_64"));
        executable(bin.resolve("swtpm"));
        executable(dir.resolve("tpm-tool"));
        Files.writeString(dir.resolve("not-executable"), "");
        loader = new ConfigLoader("/nonexistent:" + bin);
    }


    private static void executable(Path p) throws IOException {
        Files.writeString(p, "#!/bin/sh\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private AgentConfig parse(String yaml) throws ConfigException {
        return loader.parse(yaml, dir);
    }

    private void assertRejected(String yaml, String field, String... words) {
        assertThatThrownBy(() -> parse(yaml))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).field()).isEqualTo(field))
                .message().startsWith(field + ": ").contains(words);
    }

    @Test
    void parse_minimalConfig_fillsDefaults() throws ConfigException {
        AgentConfig c = parse("host: node1\ndataDir: data\n");

        assertThat(c.host()).isEqualTo("node1");
        assertThat(c.listen()).isEqualTo("127.0.0.1");
        assertThat(c.port()).isEqualTo(7780);
        assertThat(c.dataDir()).isEqualTo(dir.resolve("data"));
        assertThat(c.qemu()).isEqualTo(dir.resolve("bin/qemu-system-x86_64"));
        assertThat(c.swtpm()).isEqualTo(dir.resolve("bin/swtpm"));
        assertThat(c.tools()).isEmpty();
        assertThat(c.peers()).isEmpty();
        assertThat(c.accel()).isEqualTo(Accelerator.AUTO);
        assertThat(c.roots().storage()).as("without storage, VMs may use only the images directory")
                .containsExactly(dir.resolve("data/images"));
        assertThat(c.roots().saves()).containsExactly(dir.resolve("data/saves"));
        assertThat(c.roots().boot()).isEmpty();
        assertThat(c.roots().blockDevices()).isEmpty();
    }

    @Test
    void parse_roots_resolveAgainstTheFilesDirectory_besideTheDataDirectorysOwn() throws ConfigException {
        AgentConfig c = parse("""
                host: n
                dataDir: /var/lib/ferry
                storage: [/srv/vm, images]
                boot: [/var/lib/ferry-boot]
                saves: [/srv/saves]
                blockDevices: [/dev/vg0, /dev/disk/by-id/wwn-0x5000]
                """);

        assertThat(c.roots().storage()).containsExactly(Path.of("/var/lib/ferry/images"), Path.of("/srv/vm"),
                dir.resolve("images"));
        assertThat(c.roots().boot()).containsExactly(Path.of("/var/lib/ferry-boot"));
        assertThat(c.roots().saves()).containsExactly(Path.of("/var/lib/ferry/saves"), Path.of("/srv/saves"));
        assertThat(c.roots().blockDevices()).containsExactly(Path.of("/dev/vg0"), Path.of("/dev/disk/by-id/wwn-0x5000"));
    }

    @Test
    void parse_rootsThatWouldOpenTheWholeHost_areRefused() {
        assertRejected("host: n\ndataDir: d\nstorage: [/srv/vm, /]\n", "storage[1]", "every file of the host");
        assertRejected("host: n\ndataDir: d\nboot: [/proc/1/root/boot]\n", "boot[0]", "inside /proc");
        assertRejected("host: n\ndataDir: d\nsaves: [/sys/kernel]\n", "saves[0]", "inside /sys");
        assertRejected("host: n\ndataDir: d\nstorage: [/dev/vg0]\n", "storage[0]", "inside /dev",
                "list host block devices under blockDevices");
        assertRejected("host: n\ndataDir: d\nstorage: [\"\"]\n", "storage[0]", "is empty");
        assertRejected("host: n\ndataDir: d\nstorage: /srv/vm\n", "storage", "wrong type");
    }

    @Test
    void parse_accelTcg_forcesTheEmulator() throws ConfigException {
        assertThat(parse("host: n\ndataDir: d\naccel: tcg\n").accel()).isEqualTo(Accelerator.TCG);
        assertThat(parse("host: n\ndataDir: d\naccel: KVM\n").accel()).isEqualTo(Accelerator.KVM);
    }

    @Test
    void parse_unknownAccel_namesTheChoices() {
        assertRejected("host: n\ndataDir: d\naccel: hvf\n", "accel", "'hvf'", "auto", "kvm", "tcg");
    }

    @Test
    void parse_fullConfig_keepsEveryField() throws ConfigException {
        AgentConfig c = parse("""
                host: node1
                listen: 0.0.0.0
                insecure: true
                port: 0
                dataDir: /var/lib/ferry
                qemu: bin/qemu-system-x86_64
                swtpm: bin/swtpm
                tools:
                  tpm:
                    path: tpm-tool
                    dialect: xen
                    timeouts:
                      check: 500ms
                      sync: 2m
                peers:
                  node2: http://node2:7780
                """);

        assertThat(c.listen()).isEqualTo("0.0.0.0");
        assertThat(c.port()).isZero();
        assertThat(c.dataDir()).isEqualTo(Path.of("/var/lib/ferry"));
        ToolConfig tpm = c.tools().get("tpm");
        assertThat(tpm.path()).isEqualTo(dir.resolve("tpm-tool"));
        assertThat(tpm.dialect()).isEqualTo(ToolConfig.Dialect.XEN);
        assertThat(tpm.timeout(ToolConfig.Step.CHECK)).isEqualTo(Duration.ofMillis(500));
        assertThat(tpm.timeout(ToolConfig.Step.SYNC)).isEqualTo(Duration.ofMinutes(2));
        assertThat(tpm.timeout(ToolConfig.Step.RECOVER)).isEqualTo(ToolConfig.Step.RECOVER.defaultTimeout());
        assertThat(c.peers()).containsEntry("node2", URI.create("http://node2:7780"));
        assertThat(c.insecure()).isTrue();
        assertThat(c.tls()).isEmpty();
    }

    @Test
    void parse_nonLoopbackListen_withoutTls_isRefusedNamingTheChoices() {
        assertRejected("host: n\ndataDir: d\nlisten: 0.0.0.0\n", "listen", "'0.0.0.0' is not a loopback address",
                "tls: {dir: DIR}", "insecure: true");
    }

    @Test
    void parse_loopbackListen_needsNeitherTlsNorInsecure() throws ConfigException {
        assertThat(parse("host: n\ndataDir: d\nlisten: ::1\n").listen()).isEqualTo("::1");
        assertThat(parse("host: n\ndataDir: d\nlisten: 127.0.0.2\n").tls()).isEmpty();
    }

    @Test
    void parse_tls_resolvesTheDirectory_andRequiresHttpsPeers() throws Exception {
        Files.createDirectories(dir.resolve("pki"));

        AgentConfig c = parse("host: n\ndataDir: d\nlisten: 0.0.0.0\ntls: {dir: pki}\npeers: {node2: https://node2:7780}\n");

        assertThat(c.tls()).contains(dir.resolve("pki"));
        assertRejected("host: n\ndataDir: d\ntls: {dir: pki}\npeers: {node2: http://node2:7780}\n", "peers.node2",
                "plain HTTP while this agent uses tls");
    }

    @Test
    void parse_tlsProblems_nameTheField() throws Exception {
        Files.createDirectories(dir.resolve("pki"));

        assertRejected("host: n\ndataDir: d\ntls: {dir: nowhere}\n", "tls.dir", "is not a directory", "ferry pki issue");
        assertRejected("host: n\ndataDir: d\ntls: {}\n", "tls.dir", "missing");
        assertRejected("host: n\ndataDir: d\ntls: {dir: pki}\ninsecure: true\n", "insecure", "remove one");
    }

    @Test
    void parse_unknownTopLevelKey_namesItAndTheKnownKeys() {
        assertRejected("host: node1\ndataDir: d\nprot: 1\n", "prot", "unknown key 'prot'", "port", "dataDir");
    }

    @Test
    void parse_unknownNestedKey_namesItsPath() {
        assertRejected("host: n\ndataDir: d\ntools:\n  tpm:\n    path: tpm-tool\n    timeout: {}\n",
                "tools.tpm.timeout", "unknown key 'timeout'", "timeouts");
    }

    @Test
    void parse_missingHost_saysWhatToSet() {
        assertRejected("dataDir: d\n", "host", "missing", "host: node1");
    }

    @Test
    void parse_missingDataDir_saysWhatToSet() {
        assertRejected("host: n\n", "dataDir", "missing");
    }

    @Test
    void parse_portOutOfRange_givesTheRange() {
        assertRejected("host: n\ndataDir: d\nport: 70000\n", "port", "between 0 and 65535", "70000");
    }

    @Test
    void parse_portNotANumber_isAWrongType() {
        assertRejected("host: n\ndataDir: d\nport: eighty\n", "port", "wrong type");
    }

    @Test
    void parse_qemuNotOnPath_saysHowToFixIt() {
        loader = new ConfigLoader("/nonexistent");
        assertRejected("host: n\ndataDir: d\n", "qemu", "not found on PATH", "qemu: /path/to/qemu-system-x86_64");
    }

    @Test
    void parse_toolNotExecutable_namesThePath() {
        assertRejected("host: n\ndataDir: d\ntools:\n  tpm:\n    path: not-executable\n",
                "tools.tpm.path", "not an executable file");
    }

    @Test
    void parse_toolMissing_namesThePath() {
        assertRejected("host: n\ndataDir: d\ntools:\n  disk:\n    path: /no/such/tool\n",
                "tools.disk.path", "/no/such/tool does not exist");
    }

    @Test
    void parse_unknownDialect_listsTheDialects() {
        assertRejected("host: n\ndataDir: d\ntools:\n  tpm:\n    path: tpm-tool\n    dialect: libvirt\n",
                "tools.tpm.dialect", "'libvirt'", "ferry or xen");
    }

    @Test
    void parse_concurrentXenTool_optsIntoFerrysSequence_andAXenToolWithoutItKeepsXends() throws ConfigException {
        AgentConfig c = parse("host: n\ndataDir: d\ntools:\n  tpm:\n    path: tpm-tool\n    dialect: xen\n"
                + "    concurrent: true\n  usb:\n    path: tpm-tool\n    dialect: xen\n");

        assertThat(c.tools().get("tpm").concurrent()).isTrue();
        assertThat(c.tools().get("usb").concurrent()).isFalse();
        assertThat(ToolSpecs.of(c.tools()).get("tpm").sequence()).isEqualTo(StepSequence.FERRY);
        assertThat(ToolSpecs.of(c.tools()).get("usb").sequence()).isEqualTo(StepSequence.XEND);
    }

    @Test
    void parse_concurrentOnAFerryTool_saysItAppliesOnlyToXen() {
        assertRejected("host: n\ndataDir: d\ntools:\n  tpm:\n    path: tpm-tool\n    concurrent: true\n",
                "tools.tpm.concurrent", "applies only to dialect xen");
    }

    @Test
    void parse_badTimeout_showsTheFormat() {
        assertRejected("host: n\ndataDir: d\ntools:\n  tpm:\n    path: tpm-tool\n    timeouts:\n      sync: soon\n",
                "tools.tpm.timeouts.sync", "'soon'", "30s");
    }

    @Test
    void parse_unknownStep_listsTheSteps() {
        assertRejected("host: n\ndataDir: d\ntools:\n  tpm:\n    path: tpm-tool\n    timeouts:\n      step2: 1s\n",
                "tools.tpm.timeouts.step2", "pre-suspend");
    }

    @Test
    void parse_peerWithoutScheme_showsAnExample() {
        assertRejected("host: n\ndataDir: d\npeers:\n  node2: node2:7780\n", "peers.node2", "http://node2:7780");
    }

    @Test
    void parse_peerNamedLikeThisHost_isRejected() {
        assertRejected("host: n\ndataDir: d\npeers:\n  n: http://n:7780\n", "peers.n", "own name");
    }

    @Test
    void parse_notYaml_givesTheLine() {
        assertRejected("host: n\n\tdataDir: d\n", "config", "not valid YAML", "line 2");
    }

    @Test
    void load_missingFile_saysSo() {
        assertThatThrownBy(() -> loader.load(dir.resolve("nope.yaml")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("does not exist");
    }

    @Test
    void load_resolvesRelativePathsAgainstTheFilesDirectory() throws Exception {
        Path file = dir.resolve("agent.yaml");
        Files.writeString(file, "host: n\ndataDir: state\n");
        assertThat(loader.load(file).dataDir()).isEqualTo(dir.resolve("state"));
    }
}
