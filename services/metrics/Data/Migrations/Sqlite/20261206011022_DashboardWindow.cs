using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MissionControl.Metrics.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class DashboardWindow : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_task_states_organization_id_board_id_status_deleted_at",
                table: "task_states",
                columns: new[] { "organization_id", "board_id", "status", "deleted_at" },
                filter: "deleted_at IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_task_states_organization_id_board_id_status_deleted_at",
                table: "task_states");
        }
    }
}
