package dev.emailrouter.support.internal.mime;

import dev.emailrouter.api.Attachment;
import dev.emailrouter.support.internal.Checks;
import jakarta.activation.DataSource;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Streams an {@link Attachment}'s content into the message as it is written to the socket: the
 * content is opened anew for every attempt and never held whole in memory. A failure to read it
 * surfaces as an {@link AttachmentReadException}, so it is not mistaken for a lost connection.
 * Thread-safe (each call opens its own stream).
 */
final class AttachmentDataSource implements DataSource {
  private final Attachment attachment;

  AttachmentDataSource(Attachment attachment) {
    this.attachment = attachment;
  }

  @Override
  public InputStream getInputStream() throws IOException {
    InputStream in;
    try {
      in = attachment.content().open();
    } catch (IOException | RuntimeException e) {
      throw new AttachmentReadException(attachment.fileName(), e);
    }
    if (in == null) {
      throw new AttachmentReadException(attachment.fileName(), new IOException("ContentSource.open() returned null"));
    }
    return new Guarded(in, attachment.fileName());
  }

  @Override
  public OutputStream getOutputStream() throws IOException {
    throw new IOException("attachment " + Checks.quote(attachment.fileName()) + " is read-only");
  }

  @Override
  public String getContentType() {
    return attachment.contentType();
  }

  @Override
  public String getName() {
    return attachment.fileName();
  }

  /** Marks read failures as the attachment's. */
  private static final class Guarded extends FilterInputStream {
    private final String fileName;

    Guarded(InputStream in, String fileName) {
      super(in);
      this.fileName = fileName;
    }

    @Override
    public int read() throws IOException {
      try {
        return super.read();
      } catch (IOException | RuntimeException e) {
        throw new AttachmentReadException(fileName, e);
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        return super.read(b, off, len);
      } catch (IOException | RuntimeException e) {
        throw new AttachmentReadException(fileName, e);
      }
    }
  }
}
