using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MissionControl.Tasks.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AddTaskStatusIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_tasks_board_id_status_created_at",
                table: "tasks",
                columns: new[] { "board_id", "status", "created_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_tasks_board_id_status_created_at",
                table: "tasks");
        }
    }
}
