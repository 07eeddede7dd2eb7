package dev.emailrouter.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The transport's main code speaks SMTP through public JDK and Jakarta API only: no reflection into
 * a dependency's private members, and no Angus Mail class (Angus is a runtime provider of Jakarta
 * Mail's MIME streams, nothing more).
 */
final class MainCodeRulesTest {

  private static List<Path> mainSources() throws IOException {
    Path main = Path.of("src", "main", "java");
    assertThat(main).as("run from the module's folder").isDirectory();
    try (Stream<Path> files = Files.walk(main)) {
      return files.filter(p -> p.toString().endsWith(".java")).toList();
    }
  }

  @Test
  void mainCode_usesNoReflectionAndNoAngusClass() throws IOException {
    List<Path> sources = mainSources();
    assertThat(sources).isNotEmpty();
    for (Path source : sources) {
      String text = Files.readString(source, StandardCharsets.UTF_8);
      assertThat(text).as("%s", source)
          .doesNotContain("setAccessible")
          .doesNotContain("java.lang.reflect")
          .doesNotContain("org.eclipse.angus");
    }
  }
}
