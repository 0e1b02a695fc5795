using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MissionControl.Tasks.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ListIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_approvals_board_id_status",
                table: "approvals");

            migrationBuilder.CreateIndex(
                name: "ix_tasks_organization_id_created_at_id",
                table: "tasks",
                columns: new[] { "organization_id", "created_at", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_approvals_agent_id",
                table: "approvals",
                column: "agent_id");

            migrationBuilder.CreateIndex(
                name: "ix_approvals_board_id_status_created_at",
                table: "approvals",
                columns: new[] { "board_id", "status", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_approvals_organization_id_status_created_at",
                table: "approvals",
                columns: new[] { "organization_id", "status", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_approvals_task_id",
                table: "approvals",
                column: "task_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_tasks_organization_id_created_at_id",
                table: "tasks");

            migrationBuilder.DropIndex(
                name: "ix_approvals_agent_id",
                table: "approvals");

            migrationBuilder.DropIndex(
                name: "ix_approvals_board_id_status_created_at",
                table: "approvals");

            migrationBuilder.DropIndex(
                name: "ix_approvals_organization_id_status_created_at",
                table: "approvals");

            migrationBuilder.DropIndex(
                name: "ix_approvals_task_id",
                table: "approvals");

            migrationBuilder.CreateIndex(
                name: "ix_approvals_board_id_status",
                table: "approvals",
                columns: new[] { "board_id", "status" });
        }
    }
}
