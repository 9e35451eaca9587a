package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.agent.api.DefineVmRequest;
import dev.ferry.lab.Api;
import dev.ferry.lab.Lab;
import dev.ferry.lab.TestGuest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Confined paths through a real agent: the lab's root is its storage and the guest kit's cache its
 * boot root. The test guest with its data disk outside them (directly, or through a link inside the
 * root) is refused with 403 and nothing is defined or started; with the disk inside, it boots.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConfinedPathsIT {
    private Lab lab;
    private Api onA;
    private Path root;
    private Path outside;

    @BeforeAll
    void startTheLab(@TempDir Path root, @TempDir Path elsewhere) throws Exception {
        this.root = root.toRealPath();
        this.outside = elsewhere.toRealPath();
        lab = Lab.in(root).hosts(Lab.A).start();
        onA = lab.api(Lab.A);
    }

    @AfterAll
    void stopTheLab() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void aDiskOutsideTheRoots_isRefused_andNothingIsDefinedOrStarted() throws Exception {
        Path disk = TestGuest.createDisk(outside.resolve("data.qcow2"));
        Path link = Files.createSymbolicLink(root.resolve("innocent.qcow2"), disk);

        for (Path given : new Path[] {disk, link, Path.of(root + "/../" + outside.getFileName() + "/data.qcow2")}) {
            Api.Reply r = onA.post("/v1/vms", new DefineVmRequest(TestGuest.named("outvm").disk(given).yaml(), root.toString()));

            assertThat(r.status()).as("%s: %s", given, r.body()).isEqualTo(403);
            assertThat(r.body().path("error").path("code").asText()).isEqualTo("path_not_allowed");
            assertThat(r.body().path("error").path("message").asText())
                    .contains("vm 'outvm': devices[0].path: ")
                    .contains("(resolved: " + disk + ")")
                    .contains("is outside the storage roots [" + lab.agent(Lab.A).dataDir().resolve("images") + ", " + root + "]");
        }
        assertThat(onA.vm("outvm").status()).as("nothing defined").isEqualTo(404);
        assertThat(lab.qemusOf(Lab.A)).as("nothing started").isEmpty();
    }

    @Test
    void aKernelOutsideTheRoots_isRefusedByItsField() throws Exception {
        Path kernel = Files.copy(TestGuest.artifacts().kernel(), outside.resolve("vmlinuz"));
        Path disk = TestGuest.createDisk(root.resolve("kernel-data.qcow2"));
        String spec = TestGuest.named("kernelvm").disk(disk).yaml()
                .replace(TestGuest.artifacts().kernel().toString(), kernel.toString());

        Api.Reply r = onA.post("/v1/vms", new DefineVmRequest(spec, root.toString()));

        assertThat(r.status()).as("%s", r.body()).isEqualTo(403);
        assertThat(r.body().path("error").path("message").asText()).startsWith("vm 'kernelvm': kernel: " + kernel)
                .contains("is outside the boot roots");
        assertThat(onA.vm("kernelvm").status()).isEqualTo(404);
    }

    @Test
    void aDiskInsideTheRoots_boots() throws Exception {
        Path disk = TestGuest.createDisk(root.resolve("data.qcow2"));

        Path log = lab.defineAndStart(Lab.A, "invm", TestGuest.named("invm").disk(disk).yaml());

        TestGuest.awaitBooted(log, true, 3);
        assertThat(onA.vmState("invm")).isEqualTo("running");
        onA.post("/v1/vms/invm/destroy", null).expect(200, "destroy vm 'invm'");
        onA.delete("/v1/vms/invm").expect(204, "undefine vm 'invm'");
    }
}
