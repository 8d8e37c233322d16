// pgjdbc against the cataloger's PostgreSQL endpoint, run as a single-file program
// (java -cp <pgjdbc jar> PgJdbcCheck.java <port> <password> <url parameters>...):
// for each set of URL parameters (sslmode, channelBinding, sslNegotiation ...) it
// connects, counts songs_data and exports three song ids with CopyManager (COPY ...
// TO STDOUT, CSV with a header). One line each: "OK <count> <copied rows> <csv>",
// the CSV's line breaks as '|', or "FAIL <message>".
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;

import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;

public class PgJdbcCheck {
  public static void main(String[] args) {
    for (int i = 2; i < args.length; i++) {
      String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/spotify?user=metabase&password=" + args[1] + "&" + args[i];
      try (Connection c = DriverManager.getConnection(url)) {
        ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM songs_data");
        rs.next();
        StringWriter csv = new StringWriter();
        long copied = new CopyManager((BaseConnection) c)
            .copyOut("COPY (SELECT song_id FROM songs_data ORDER BY 1 LIMIT 3) TO STDOUT (FORMAT csv, HEADER)", csv);
        System.out.println("OK " + rs.getLong(1) + " " + copied + " " + csv.toString().replace("\n", "|"));
      } catch (Exception e) {
        System.out.println("FAIL " + e.getMessage().replace("\n", " "));
      }
    }
  }
}
