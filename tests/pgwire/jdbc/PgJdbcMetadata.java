// pgjdbc's DatabaseMetaData against the cataloger's PostgreSQL endpoint, as JDBC tools
// browse a database with it (DBeaver, DataGrip, Metabase's JDBC sync, Squirrel ...), run
// as a single-file program: java -cp <pgjdbc jar> PgJdbcMetadata.java <port> <password>.
// One tab-separated line per answer row, the method's name first, or "FAIL <method> <message>"
// when a method throws. Read by test_clients.py (PgJdbcMetadata).
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;

public class PgJdbcMetadata {
  interface Call {
    ResultSet run(DatabaseMetaData m) throws Exception;
  }

  // Prints the named columns of every row of one method's answer.
  static void rows(String method, DatabaseMetaData m, Call call, String... columns) {
    List<String> out = new ArrayList<>();
    try (ResultSet rs = call.run(m)) {
      while (rs.next()) {
        StringBuilder line = new StringBuilder(method);
        for (String c : columns) line.append('\t').append(rs.getString(c));
        out.add(line.toString());
      }
      out.add("END\t" + method + "\t" + (out.size()));
    } catch (Exception e) {
      out.clear();
      out.add("FAIL\t" + method + "\t" + String.valueOf(e.getMessage()).replace('\n', ' ').replace('\t', ' '));
    }
    out.forEach(System.out::println);
  }

  public static void main(String[] args) throws Exception {
    String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/spotify?user=metabase&password=" + args[1];
    try (Connection c = DriverManager.getConnection(url)) {
      DatabaseMetaData m = c.getMetaData();
      String schema = c.getSchema();
      System.out.println("schema\t" + schema + "\t" + m.getMaxColumnNameLength() + "\t" + m.getUserName());
      rows("getCatalogs", m, x -> x.getCatalogs(), "TABLE_CAT");
      rows("getSchemas", m, x -> x.getSchemas(), "TABLE_SCHEM", "TABLE_CATALOG");
      rows("getSchemasLike", m, x -> x.getSchemas(null, "spot%"), "TABLE_SCHEM");
      rows("getTables", m, x -> x.getTables(null, schema, "%", new String[] {"TABLE", "VIEW"}),
           "TABLE_SCHEM", "TABLE_NAME", "TABLE_TYPE", "REMARKS");
      rows("getTablesAll", m, x -> x.getTables(null, null, null, null), "TABLE_SCHEM", "TABLE_NAME", "TABLE_TYPE");
      rows("getTablesViews", m, x -> x.getTables(null, schema, "%", new String[] {"VIEW"}), "TABLE_NAME");
      rows("getTablesPattern", m, x -> x.getTables(null, schema, "song%", null), "TABLE_NAME");
      rows("getColumns", m, x -> x.getColumns(null, schema, "%", "%"), "TABLE_NAME", "COLUMN_NAME",
           "TYPE_NAME", "DATA_TYPE", "ORDINAL_POSITION", "IS_NULLABLE", "IS_AUTOINCREMENT");
      rows("getColumnsPattern", m, x -> x.getColumns(null, schema, "songs_data", "%pop%"), "COLUMN_NAME", "ORDINAL_POSITION");
      rows("getPrimaryKeys", m, x -> x.getPrimaryKeys(null, schema, "songs_data"), "COLUMN_NAME");
      rows("getImportedKeys", m, x -> x.getImportedKeys(null, schema, "songs_data"), "PKTABLE_NAME");
      rows("getExportedKeys", m, x -> x.getExportedKeys(null, schema, "albums_data"), "FKTABLE_NAME");
      rows("getIndexInfo", m, x -> x.getIndexInfo(null, schema, "songs_data", false, true), "INDEX_NAME");
      rows("getTypeInfo", m, x -> x.getTypeInfo(), "TYPE_NAME", "DATA_TYPE");
      rows("getTablePrivileges", m, x -> x.getTablePrivileges(null, schema, "songs_data"), "GRANTEE", "PRIVILEGE");
      rows("getColumnPrivileges", m, x -> x.getColumnPrivileges(null, schema, "songs_data", "song_id"), "PRIVILEGE");
      rows("getFunctions", m, x -> x.getFunctions(null, schema, "%"), "FUNCTION_NAME");
      rows("getProcedures", m, x -> x.getProcedures(null, schema, "%"), "PROCEDURE_NAME");
      rows("getUDTs", m, x -> x.getUDTs(null, schema, "%", null), "TYPE_NAME");
      rows("getClientInfoProperties", m, x -> x.getClientInfoProperties(), "NAME");
      // The forms of Metabase's own sync queries (over pgjdbc, as Metabase sends them):
      // every identifier quoted, and a WITH over a UNION with privilege functions.
      rows("metabaseTables", m, x -> x.getConnection().createStatement().executeQuery(
          "SELECT \"n\".\"nspname\" AS \"schema\", \"c\".\"relname\" AS \"name\", CASE \"c\".\"relkind\" WHEN 'r' THEN 'TABLE' "
          + "WHEN 'v' THEN 'VIEW' ELSE NULL END AS \"type\", \"stat\".\"n_live_tup\" AS \"estimated_row_count\" "
          + "FROM \"pg_catalog\".\"pg_class\" AS \"c\" INNER JOIN \"pg_catalog\".\"pg_namespace\" AS \"n\" "
          + "ON \"c\".\"relnamespace\" = \"n\".\"oid\" LEFT JOIN \"pg_stat_user_tables\" AS \"stat\" "
          + "ON (\"c\".\"relname\" = \"stat\".\"relname\") WHERE (\"n\".\"nspname\" !~ '^pg_') "
          + "AND c.relkind IN ('r', 'p', 'v', 'f', 'm') ORDER BY \"type\" ASC, \"schema\" ASC, \"name\" ASC"),
          "schema", "name", "type", "estimated_row_count");
      rows("metabasePrivileges", m, x -> x.getConnection().prepareStatement(
          "WITH readable AS (SELECT t.schemaname AS schema, t.objectname AS table, "
          + "pg_catalog.has_any_column_privilege(current_user, t.schemaname || '.' || t.objectname, 'select') AS select, "
          + "pg_catalog.has_table_privilege(current_user, t.schemaname || '.' || t.objectname, 'delete') AS delete "
          + "FROM (SELECT schemaname, tablename AS objectname FROM pg_catalog.pg_tables UNION "
          + "SELECT schemaname, viewname AS objectname FROM pg_catalog.pg_views) t "
          + "WHERE t.schemaname !~ '^pg_' AND pg_catalog.has_schema_privilege(current_user, t.schemaname, 'usage')) "
          + "SELECT r.* FROM readable r ORDER BY 2").executeQuery(),
          "schema", "table", "select", "delete");
    }
  }
}
