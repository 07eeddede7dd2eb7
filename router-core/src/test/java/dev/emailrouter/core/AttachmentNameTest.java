package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.mail.internet.MimeBodyPart;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class AttachmentNameTest {

  private static AttachmentName of(String headers) throws Exception {
    byte[] raw = (headers + "\r\n\r\nbody\r\n").getBytes(StandardCharsets.UTF_8);
    return AttachmentName.of(new MimeBodyPart(new ByteArrayInputStream(raw)));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "payload.exe|exe", "payload.exe.|exe", "payload.exe. .|exe", "payload.exe::$DATA|exe",
      "payload.exe:stream|exe", "PAYLOAD.ExE|exe", "..\\x\\payload.exe|exe", "/tmp/payload.exe|exe",
      "payload.exe\u0000.pdf|exe", "payload.exe\t|exe", "report.pdf|pdf", "README|''", "archive.tar.gz|gz",
      "'x.E\u0301XE'|\u00e9xe"})
  void extension_isTheOneWindowsWouldActOn(String name, String extension) {
    assertThat(AttachmentName.extension(name)).isEqualTo(extension);
  }

  @Test
  void parameter_readsPlainExtendedAndContinuedValues() {
    assertThat(AttachmentName.parameter("attachment; filename=\"a \\\"b\\\".pdf\"; size=3", "filename"))
        .containsExactly("a \"b\".pdf");
    assertThat(AttachmentName.parameter("attachment; filename*=iso-8859-1'de'M%FCller.pdf", "filename"))
        .containsExactly("Müller.pdf");
    assertThat(AttachmentName.parameter("attachment;\r\n filename*1*=%2Eexe; filename*0*=utf-8''pay%C3%BCload",
        "filename")).containsExactly("payüload.exe");
    assertThat(AttachmentName.parameter("attachment; filename*0=\"pay\"; filename*1=\"load.exe\"", "filename"))
        .containsExactly("payload.exe");
    assertThat(AttachmentName.parameter("attachment; name=x.exe; filename=\"=?UTF-8?Q?r=C3=A9sum=C3=A9.pdf?=\"",
        "filename")).containsExactly("résumé.pdf");
    assertThat(AttachmentName.parameter("attachment", "filename")).isEmpty();
    assertThat(AttachmentName.parameter("attachment; filename", "filename")).isEmpty();
  }

  @Test
  void of_givesEveryNameAPartHas_andShowsTheFirstWithoutItsPath() throws Exception {
    AttachmentName names = of("Content-Type: application/octet-stream; name=\"payload.exe\"\r\n"
        + "Content-Disposition: attachment; filename=\"C:\\\\docs\\\\report.pdf\"");

    assertThat(names.display()).isEqualTo("report.pdf");
    assertThat(names.all()).contains("C:\\docs\\report.pdf", "payload.exe");
    assertThat(names.blockedExtension(java.util.Set.of("exe"))).isEqualTo("exe");
    assertThat(names.blockedExtension(java.util.Set.of("js"))).isNull();
  }

  @Test
  void of_aPartWithoutNames_hasNoDisplayName() throws Exception {
    assertThat(of("Content-Type: text/plain").display()).isNull();
    assertThat(of("Content-Type: text/plain\r\nContent-Disposition: attachment; filename=\"a/..\"").display())
        .isNull();
  }
}
