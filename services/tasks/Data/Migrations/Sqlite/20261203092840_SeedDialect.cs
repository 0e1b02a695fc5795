using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MissionControl.Tasks.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SeedDialect : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "result",
                table: "tasks",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "result",
                table: "tasks");
        }
    }
}
