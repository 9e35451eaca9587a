package dev.ferry.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModuleDepsTest {

    private static Map<String, ModuleDeps.Entry> fixture() throws IOException {
        try (InputStream in = ModuleDepsTest.class.getResourceAsStream("/guest/modules.dep")) {
            return ModuleDeps.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void nameOf_stripsDirectoryAndCompressionAndUsesUnderscores() {
        assertThat(ModuleDeps.nameOf("kernel/drivers/char/hw_random/virtio-rng.ko.zst")).isEqualTo("virtio_rng");
        assertThat(ModuleDeps.nameOf("virtio_blk.ko")).isEqualTo("virtio_blk");
        assertThat(ModuleDeps.nameOf("net_failover.ko.xz")).isEqualTo("net_failover");
    }

    @Test
    void parse_keysEntriesByModuleNameWithNeedsAsNames() throws IOException {
        Map<String, ModuleDeps.Entry> deps = fixture();

        assertThat(deps.get("virtio_net").path()).isEqualTo("kernel/drivers/net/virtio_net.ko.xz");
        assertThat(deps.get("virtio_net").needs()).containsExactly("net_failover", "failover", "virtio", "virtio_ring");
        assertThat(deps.get("virtio_ring").needs()).isEmpty();
        assertThat(deps.get("virtio_rng").needs()).containsExactly("virtio", "virtio_ring");
    }

    @Test
    void loadOrder_putsEveryModuleAfterWhatItNeeds() throws IOException {
        Map<String, ModuleDeps.Entry> deps = fixture();

        List<String> order = ModuleDeps.loadOrder(List.of("virtio_pci", "virtio_blk", "virtio_net"),
                name -> deps.get(name).needs());

        assertThat(order).containsExactly("virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_ring", "virtio",
                "virtio_pci", "virtio_blk", "failover", "net_failover", "virtio_net");
        for (String module : order) {
            for (String need : deps.get(module).needs()) {
                assertThat(order.indexOf(need)).as("%s before %s", need, module).isLessThan(order.indexOf(module));
            }
        }
    }

    @Test
    void loadOrder_followsNeedsTransitivelyWhenOnlyDirectOnesAreListed() {
        // .modinfo depends= lists direct needs only, unlike modules.dep.
        Map<String, List<String>> direct = Map.of("virtio_blk", List.of("virtio"), "virtio", List.of("virtio_ring"),
                "virtio_ring", List.of());

        assertThat(ModuleDeps.loadOrder(List.of("virtio_blk"), direct::get))
                .containsExactly("virtio_ring", "virtio", "virtio_blk");
    }

    @Test
    void loadOrder_namesTheModulesOfACycle() {
        Map<String, List<String>> cyclic = Map.of("a", List.of("b"), "b", List.of("c"), "c", List.of("a"));

        assertThatThrownBy(() -> ModuleDeps.loadOrder(List.of("a"), cyclic::get))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("a -> b -> c -> a");
    }

    @Test
    void parseDepends_splitsTheModinfoValue() {
        assertThat(ModuleDeps.parseDepends("virtio_ring,virtio_pci_modern_dev,virtio")).containsExactly(
                "virtio_ring", "virtio_pci_modern_dev", "virtio");
        assertThat(ModuleDeps.parseDepends("")).isEmpty();
    }

    @Test
    void parse_rejectsALineWithoutColon() {
        assertThatThrownBy(() -> ModuleDeps.parse("kernel/a.ko\n"))
                .hasMessageContaining("line 1");
    }
}
