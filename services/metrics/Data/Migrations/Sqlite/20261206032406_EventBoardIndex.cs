using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MissionControl.Metrics.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class EventBoardIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_events_board_id_seq",
                table: "events");

            migrationBuilder.DropIndex(
                name: "ix_events_task_id_seq",
                table: "events");

            migrationBuilder.CreateIndex(
                name: "ix_events_organization_id_board_id_seq",
                table: "events",
                columns: new[] { "organization_id", "board_id", "seq" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_events_organization_id_board_id_seq",
                table: "events");

            migrationBuilder.CreateIndex(
                name: "ix_events_board_id_seq",
                table: "events",
                columns: new[] { "board_id", "seq" });

            migrationBuilder.CreateIndex(
                name: "ix_events_task_id_seq",
                table: "events",
                columns: new[] { "task_id", "seq" });
        }
    }
}
