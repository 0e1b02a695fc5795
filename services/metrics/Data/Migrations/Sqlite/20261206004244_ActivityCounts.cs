using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MissionControl.Metrics.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ActivityCounts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "activity_counts",
                columns: table => new
                {
                    organization_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    board_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    audience = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    type = table.Column<string>(type: "TEXT", maxLength: 80, nullable: false),
                    has_message = table.Column<bool>(type: "INTEGER", nullable: false),
                    count = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_activity_counts", x => new { x.organization_id, x.board_id, x.audience, x.type, x.has_message });
                });
            migrationBuilder.Sql(MissionControl.Metrics.Activity.ActivityCount.BackfillSqlite);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "activity_counts");
        }
    }
}
