package dev.ferry.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.device.DeviceController;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class WatchedToolTest {

    /**
     * The sequence may ask a controller more than its steps (which sequence it needs, say); a
     * method the wrapper inherited as a default would answer for the wrapper, not for the tool.
     */
    @Test
    void everyControllerMethod_isPassedOnToTheTool() throws Exception {
        for (Method m : DeviceController.class.getMethods()) {
            if (Modifier.isStatic(m.getModifiers())) {
                continue;
            }
            Method own = WatchedTool.class.getMethod(m.getName(), m.getParameterTypes());
            assertThat(own.getDeclaringClass()).as("WatchedTool must override %s", m.getName())
                    .isEqualTo(WatchedTool.class);
        }
        assertThat(Arrays.stream(DeviceController.class.getMethods()).map(Method::getName))
                .contains("check", "preSuspend", "recover");
    }
}
