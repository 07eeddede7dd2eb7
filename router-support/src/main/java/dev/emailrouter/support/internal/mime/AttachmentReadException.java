package dev.emailrouter.support.internal.mime;

import dev.emailrouter.support.internal.Checks;
import java.io.IOException;

/**
 * An attachment's content could not be read while the message was written: the email, not the
 * connection or the service it was written to, is at fault. The message names the file, never its
 * content. Found in the cause chain of what writing the message threw.
 */
public final class AttachmentReadException extends IOException {
  private static final long serialVersionUID = 1L;

  AttachmentReadException(String fileName, Throwable cause) {
    super("attachment " + Checks.quote(fileName) + " can't be read: " + cause, cause);
  }
}
