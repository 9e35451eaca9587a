package dev.ferry.agent.config;

import dev.ferry.device.Step;
import dev.ferry.device.ToolDialect;
import dev.ferry.device.ToolSpec;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

/** Turns the config's {@code tools} section into what the device layer runs. */
public final class ToolSpecs {
    private ToolSpecs() {}

    public static Map<String, ToolSpec> of(Map<String, ToolConfig> tools) {
        Map<String, ToolSpec> out = new HashMap<>();
        tools.forEach((type, t) -> {
            Map<Step, Duration> timeouts = new EnumMap<>(Step.class);
            timeouts.put(Step.CHECK, t.timeout(ToolConfig.Step.CHECK));
            timeouts.put(Step.PRE_SUSPEND, t.timeout(ToolConfig.Step.PRE_SUSPEND));
            timeouts.put(Step.POST_SUSPEND, t.timeout(ToolConfig.Step.POST_SUSPEND));
            timeouts.put(Step.SYNC, t.timeout(ToolConfig.Step.SYNC));
            ToolDialect dialect = t.dialect() == ToolConfig.Dialect.XEN ? ToolDialect.XEN : ToolDialect.FERRY;
            // A step without its own timeout is a recovery, the only call that passes no step.
            out.put(type, new ToolSpec(t.path(), dialect, timeouts, t.timeout(ToolConfig.Step.RECOVER),
                    ToolSpec.DEFAULT_OUTPUT_CAP, t.concurrent()));
        });
        return out;
    }
}
